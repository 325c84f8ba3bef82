"""What the actions of other apps call, in their transaction, to keep compliance findings
in step with the contract: each schedules a job after commit (nothing happens if the
transaction rolls back).

Imports are deferred so that importing an actions module never imports compliance."""

from __future__ import annotations

from django.db import transaction


def recheck_after_commit(contract_id: int) -> None:
    """Re-check one contract against the rules once the current transaction commits."""

    def enqueue() -> None:
        from qiyue.compliance.tasks import check_contract_task

        check_contract_task(contract_id)

    transaction.on_commit(enqueue, robust=True)


def recheck_many_after_commit(contract_ids: list[int]) -> None:
    """Check many contracts (a bulk import's batch) in one job once the transaction commits."""
    ids = list(contract_ids)

    def enqueue() -> None:
        from qiyue.compliance.tasks import check_contracts_task

        check_contracts_task(ids)

    if ids:
        transaction.on_commit(enqueue, robust=True)


def recheck_party_after_commit(party_id: int) -> None:
    """A customer's name or credit code changed: re-check every contract with it."""

    def enqueue() -> None:
        from qiyue.compliance.tasks import check_party_contracts_task

        check_party_contracts_task(party_id)

    transaction.on_commit(enqueue, robust=True)


def recheck_scope_after_commit(contract_type_id: int | None) -> None:
    """The rules changed: re-check the open contracts of the type (None: of every type)."""

    def enqueue() -> None:
        from qiyue.compliance.tasks import check_open_contracts_task

        check_open_contracts_task(contract_type_id)

    transaction.on_commit(enqueue, robust=True)
