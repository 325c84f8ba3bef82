"""Background jobs of search (Huey; discovered by ``huey.contrib.djhuey``). They take
ids and are safe to run twice: each one recomputes the entries from the database."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from qiyue.search import indexing
from qiyue.search.backends import get_backend

PARTY_CHUNK = 200


@db_task(retries=2, retry_delay=30)
def reindex_contract_task(contract_id: int) -> None:
    """Bring the contract's index entry up to date (or remove it if it is gone)."""
    indexing.index_contract(contract_id)


@db_task(retries=2, retry_delay=30)
def reindex_party_task(party_id: int) -> None:
    """A customer's names changed: re-index every contract with that customer."""
    from qiyue.contracts.models import Contract

    ids = list(
        Contract.objects.filter(counterparty_id=party_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), PARTY_CHUNK):
        indexing.index_contracts(ids[start : start + PARTY_CHUNK])


@db_task(retries=1, retry_delay=300)
def optimize_index_task() -> None:
    """Merge the index's pieces after a bulk write (SearchBackend.optimize)."""
    get_backend().optimize()
