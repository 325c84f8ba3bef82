"""What the actions of other apps call, in their transaction, to keep the index in step:
each schedules a job after commit (nothing happens if the transaction rolls back).

Imports are deferred so that importing an actions module never imports search."""

from __future__ import annotations

from django.db import transaction


def reindex_after_commit(contract_id: int) -> None:
    def enqueue() -> None:
        from qiyue.search.tasks import reindex_contract_task

        reindex_contract_task(contract_id)

    transaction.on_commit(enqueue, robust=True)


def optimize_after_commit() -> None:
    """Many contracts were indexed at once (a bulk import): merge the index's pieces."""

    def enqueue() -> None:
        from qiyue.search.tasks import optimize_index_task

        optimize_index_task()

    transaction.on_commit(enqueue, robust=True)


def reindex_party_after_commit(party_id: int) -> None:
    def enqueue() -> None:
        from qiyue.search.tasks import reindex_party_task

        reindex_party_task(party_id)

    transaction.on_commit(enqueue, robust=True)
