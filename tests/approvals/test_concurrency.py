"""Concurrent decisions: of twenty at the same moment exactly one wins, on SQLite
(threads) and PostgreSQL (processes); the audit log has one decision."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from qiyue.approvals.models import ApprovalTask
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from tests.approvals._workers import decide_in_process, decide_now
from tests.factories import make_contract
from tests.processes import in_processes

N = 20


def _one_step_contract(org: Any, quorum: str = "any") -> Contract:
    from qiyue.approvals.actions import save_workflow

    save_workflow(
        actor=org.admin,
        name="一步",
        priority=1,
        definition={
            "conditions": {},
            "steps": [
                {"name": "审批", "approvers": ["role:manager", "role:finance"], "quorum": quorum}
            ],
        },
    )
    return make_contract(org.sales1, state="in_review")


def _check_exactly_one(contract: Contract, results: list[str]) -> None:
    assert sorted(set(results)) == ["AlreadyDecided", "ok"], results
    assert results.count("ok") == 1
    contract.refresh_from_db()
    assert contract.state == "approved"
    assert AuditEvent.objects.filter(action="approval.approve").count() == 1
    assert AuditEvent.objects.filter(action="contract.approve").count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_decisions_on_one_task_from_threads(org: Any) -> None:
    contract = _one_step_contract(org)
    task = ApprovalTask.objects.get(contract=contract, assignee=org.manager)
    results: list[str] = []
    barrier = threading.Barrier(N)

    def run() -> None:
        barrier.wait()
        results.append(decide_now(org.manager.pk, task.pk))

    threads = [threading.Thread(target=run) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == N
    _check_exactly_one(contract, results)


@pytest.mark.django_db(transaction=True)
def test_two_approvers_of_an_any_step_at_once_make_one_transition(org: Any) -> None:
    contract = _one_step_contract(org)
    tasks = {t.assignee_id: t.pk for t in ApprovalTask.objects.filter(contract=contract)}
    results: list[str] = []
    barrier = threading.Barrier(2 * 5)

    def run(user_pk: int) -> None:
        barrier.wait()
        results.append(decide_now(user_pk, tasks[user_pk]))

    threads = [threading.Thread(target=run, args=(u.pk,)) for u in (org.manager, org.finance) * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    _check_exactly_one(contract, results)


@pytest.mark.django_db(transaction=True)
def test_parallel_all_step_completes_once_when_both_approve_at_once(org: Any) -> None:
    contract = _one_step_contract(org, quorum="all")
    tasks = {t.assignee_id: t.pk for t in ApprovalTask.objects.filter(contract=contract)}
    results: list[str] = []
    barrier = threading.Barrier(2)

    def run(user_pk: int) -> None:
        barrier.wait()
        results.append(decide_now(user_pk, tasks[user_pk]))

    threads = [threading.Thread(target=run, args=(u.pk,)) for u in (org.manager, org.finance)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == ["ok", "ok"]
    contract.refresh_from_db()
    assert contract.state == "approved"
    assert AuditEvent.objects.filter(action="contract.approve").count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="processes share a database only on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_decisions_on_one_task_from_processes(org: Any) -> None:
    contract = _one_step_contract(org)
    task = ApprovalTask.objects.get(contract=contract, assignee=org.manager)
    results = in_processes(decide_in_process, [(org.manager.pk, task.pk)] * N)
    _check_exactly_one(contract, results)
