"""Background jobs of compliance (Huey; discovered by ``huey.contrib.djhuey``). They take
ids and are safe to run twice: each check recomputes the findings from the database."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from qiyue.compliance import actions

log = logging.getLogger(__name__)

#: States whose contracts are re-checked when the rules change (the others are closed).
OPEN_STATES = ("draft", "in_review", "returned", "approved", "signing", "active")


@db_task(retries=2, retry_delay=30)
def check_contract_task(contract_id: int) -> None:
    """Check one contract against the rules and store its findings and risk level."""
    actions.check_contract(contract_id)


def _check_each(ids: list[int]) -> None:
    for contract_id in ids:
        try:
            actions.check_contract(contract_id)
        except Exception:  # one broken contract must not stop the others
            log.exception("compliance: check of contract %s failed", contract_id)


@db_task(retries=1, retry_delay=60)
def check_contracts_task(contract_ids: list[int]) -> None:
    """Check many contracts (e.g. those a bulk import created together)."""
    _check_each(sorted(contract_ids))


@db_task(retries=1, retry_delay=60)
def check_party_contracts_task(party_id: int) -> None:
    """Re-check every contract with this customer."""
    from qiyue.contracts.models import Contract

    ids = list(
        Contract.objects.filter(counterparty_id=party_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    _check_each(ids)


@db_task(retries=1, retry_delay=60)
def check_open_contracts_task(contract_type_id: int | None) -> None:
    """Re-check the open contracts of one type (None: of every type) after a rule change."""
    from qiyue.contracts.models import Contract

    contracts = Contract.objects.filter(state__in=OPEN_STATES)
    if contract_type_id is not None:
        contracts = contracts.filter(contract_type_id=contract_type_id)
    _check_each(list(contracts.order_by("pk").values_list("pk", flat=True)))
