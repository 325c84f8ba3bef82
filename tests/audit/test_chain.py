"""The audit log is hash-chained, append-only in the database, and `qiyue audit verify`
names the first event that was edited, deleted, inserted or moved behind its back."""

from __future__ import annotations

import io
import itertools
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from qiyue.audit import chain, triggers
from qiyue.audit.actions import record
from qiyue.audit.models import AppendOnly, AuditEvent
from tests.audit._workers import append_events, append_events_in_process
from tests.factories import make_contract
from tests.processes import in_processes

WRITERS = 8
EVENTS_EACH = 10


def run_audit(*args: str) -> tuple[int, str, str]:
    """``qiyue audit …`` → (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def ids() -> list[int]:
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def drop_triggers() -> None:
    """What someone with write access to the database would do first."""
    with connection.cursor() as cursor:
        triggers.remove(cursor.execute, connection.vendor)


def rehash(event_id: int, prev_hash: str) -> str:
    e = AuditEvent.objects.get(pk=event_id)
    return chain.event_hash(
        prev_hash,
        id=e.pk,
        at=e.at,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        data=e.data,
    )


@pytest.fixture
def log(org: Any) -> list[int]:
    """A log of a few dozen events: the company, a contract taken to approval, reads."""
    contract = make_contract(org.sales1, state="approved", title="链测试 ✓")
    with transaction.atomic():
        record(actor=org.sales1, action="contract.viewed", target=contract, data={"n": 1.5})
    return ids()


# --- the chain -----------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8_and_in_utc() -> None:
    from zoneinfo import ZoneInfo

    at = datetime(2026, 1, 2, 11, 4, 5, 6, tzinfo=ZoneInfo("Asia/Shanghai"))
    text = chain.canonical(
        id=7,
        at=at,
        actor_id=None,
        actor_name="system",
        action="x.y",
        target_type="contract",
        target_id="3",
        data={"b": "合同", "a": [1, 2]},
    )
    assert (
        text
        == (
            '{"action":"x.y","actor_id":null,"actor_name":"system",'
            '"at":"2026-01-02T03:04:05.000006+00:00","data":{"a":[1,2],"b":"合同"},'
            '"id":7,"target_id":"3","target_type":"contract"}'
        ).encode()
    )


def test_a_changed_field_or_link_changes_the_hash() -> None:
    fields: dict[str, Any] = {
        "id": 1,
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "actor_id": 1,
        "actor_name": "a",
        "action": "b",
        "target_type": "c",
        "target_id": "1",
        "data": {},
    }
    base = chain.event_hash(chain.GENESIS, **fields)
    assert len(base) == 64
    assert chain.event_hash("1" * 64, **fields) != base
    for name, value in [("id", 2), ("actor_name", "z"), ("data", {"k": 1}), ("target_id", "2")]:
        assert chain.event_hash(chain.GENESIS, **{**fields, name: value}) != base


@pytest.mark.django_db
def test_a_chain_of_several_events_verifies(log: list[int]) -> None:
    assert len(log) > 5
    assert log == list(range(log[0], log[0] + len(log)))
    events = list(AuditEvent.objects.order_by("id"))
    assert events[0].prev_hash == chain.GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert run_audit("verify") == (0, f"ok {len(log)} events\n", "")


@pytest.mark.django_db
def test_data_is_stored_as_it_reads_back(org: Any) -> None:
    from datetime import date
    from decimal import Decimal

    with transaction.atomic():
        event = record(
            actor=org.sales1,
            action="x.y",
            target=org.sales1,
            data={"amount": Decimal("1.10"), "on": date(2026, 1, 2), "big": 1e20},
        )
    assert event.data == {"amount": "1.10", "on": "2026-01-02", "big": 10**20}
    assert AuditEvent.objects.get(pk=event.pk).data == event.data
    assert run_audit("verify")[0] == 0


@pytest.mark.django_db
def test_an_empty_log_verifies() -> None:
    assert run_audit("verify") == (0, "ok 0 events\n", "")


# --- concurrency ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_threads_make_one_unbroken_chain(org: Any) -> None:
    before = AuditEvent.objects.count()
    barrier = threading.Barrier(WRITERS)
    errors: list[str] = []

    def run(label: str) -> None:
        barrier.wait()
        error = append_events(org.sales1.pk, EVENTS_EACH, label)
        if error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f"t{i}",)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    total = before + WRITERS * EVENTS_EACH
    assert AuditEvent.objects.count() == total
    assert run_audit("verify") == (0, f"ok {total} events\n", "")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="processes share a database only on PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_processes_make_one_unbroken_chain(org: Any) -> None:
    before = AuditEvent.objects.count()
    results = in_processes(
        append_events_in_process,
        [(org.sales1.pk, EVENTS_EACH, f"p{i}") for i in range(WRITERS)],
    )
    assert results == [""] * WRITERS
    total = before + WRITERS * EVENTS_EACH
    assert ids() == list(range(1, total + 1))
    assert run_audit("verify") == (0, f"ok {total} events\n", "")


# --- append-only ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_database_refuses_update_and_delete_through_the_orm(log: list[int]) -> None:
    rows = AuditEvent.objects.filter(pk=log[2])
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        rows.update(action="forged")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        rows.delete()
    event = rows.get()
    event.action = "forged"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly, match="record"):
        AuditEvent.objects.create(action="forged", target_type="user", target_id="1")
    assert AuditEvent.objects.get(pk=log[2]).action != "forged"
    assert run_audit("verify")[0] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET actor_name = 'x'",
        "UPDATE audit_auditevent SET id = id + 1000 WHERE id = %(last)s",
        "DELETE FROM audit_auditevent WHERE id = %(last)s",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_refuses_update_and_delete_in_raw_sql(log: list[int], sql: str) -> None:
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql % {"last": log[-1]})
    assert ids() == log


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # committed rows: no deferred FK checks pending
def test_the_database_refuses_truncate(log: list[int]) -> None:
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent")
    assert ids() == log


@pytest.mark.django_db
def test_migrate_puts_back_triggers_that_went_missing(log: list[int]) -> None:
    drop_triggers()
    call_command("migrate", verbosity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=log[0]).delete()


# --- tampering behind its back (triggers dropped first) -------------------------------


@pytest.mark.django_db
def test_verify_names_an_edited_event(log: list[int]) -> None:
    drop_triggers()
    victim = log[4]
    AuditEvent.objects.filter(pk=victim).update(data={"after": {"amount": "1.00"}})
    code, out, err = run_audit("verify")
    assert code == 1
    assert out == ""
    assert f"event #{victim}: edited" in err


@pytest.mark.django_db
def test_verify_names_an_event_whose_actor_was_changed_in_raw_sql(log: list[int]) -> None:
    drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_name = %s WHERE id = %s", ["mallory", log[-2]]
        )
    code, _out, err = run_audit("verify")
    assert (code, err.splitlines()[0]) == (
        1,
        f"BAD event #{log[-2]}: edited: its content does not match its hash (edited or forged)",
    )


@pytest.mark.django_db
def test_verify_names_the_event_after_a_deleted_one(log: list[int]) -> None:
    drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [log[3]])
    code, _out, err = run_audit("verify")
    assert code == 1
    assert f"event #{log[4]}: deleted: events #{log[3]}–#{log[3]}" in err


@pytest.mark.django_db
def test_verify_names_a_forged_event_appended_at_the_end(log: list[int], org: Any) -> None:
    head = AuditEvent.objects.get(pk=log[-1])
    AuditEvent.objects.create(
        id=head.pk + 1,
        at=head.at,
        actor=org.manager,
        actor_name="manager",
        action="contract.approve",
        target_type="contract",
        target_id="1",
        data={},
        prev_hash=head.hash,
        hash="f" * 64,
    )
    code, _out, err = run_audit("verify")
    assert code == 1
    assert f"event #{head.pk + 1}: edited" in err


@pytest.mark.django_db
def test_verify_names_an_event_inserted_in_the_middle(log: list[int], org: Any) -> None:
    """The forger makes room by renumbering and computes a correct hash for the forged
    row; the event after it still links to the one before the forgery."""
    drop_triggers()
    at = log[5]
    with connection.cursor() as cursor:
        for event_id in reversed(log[5:]):
            cursor.execute(
                "UPDATE audit_auditevent SET id = %s WHERE id = %s", [event_id + 1, event_id]
            )
    before = AuditEvent.objects.get(pk=at - 1)
    fields: dict[str, Any] = {
        "id": at,
        "at": before.at,
        "actor_id": org.manager.pk,
        "actor_name": "manager",
        "action": "contract.approve",
        "target_type": "contract",
        "target_id": "1",
        "data": {},
    }
    AuditEvent.objects.create(
        prev_hash=before.hash, hash=chain.event_hash(before.hash, **fields), **fields
    )
    code, _out, err = run_audit("verify")
    assert code == 1
    assert f"event #{at}: inserted: event #{at + 1} links to #{at - 1}" in err


@pytest.mark.django_db
@pytest.mark.parametrize("distance", [1, 3])
def test_verify_names_the_first_of_two_swapped_events(log: list[int], distance: int) -> None:
    drop_triggers()
    first, second = log[2], log[2 + distance]
    columns = (
        "at",
        "actor_id",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "data",
        "prev_hash",
        "hash",
    )
    a = AuditEvent.objects.filter(pk=first).values(*columns).get()
    b = AuditEvent.objects.filter(pk=second).values(*columns).get()
    AuditEvent.objects.filter(pk=first).update(**b)
    AuditEvent.objects.filter(pk=second).update(**a)
    code, _out, err = run_audit("verify")
    assert code == 1
    assert f"event #{first}: reordered" in err


# --- checkpoints ---------------------------------------------------------------------


@pytest.mark.django_db
def test_checkpoint_round_trip(log: list[int], org: Any) -> None:
    code, out, err = run_audit("checkpoint")
    head = AuditEvent.objects.get(pk=log[-1])
    assert (code, out) == (0, f"{len(log)}:{head.hash}\n")
    assert "Keep this line" in err
    with transaction.atomic():
        record(actor=org.admin, action="user.seen", target=org.sales1)
    assert run_audit("verify", "--checkpoint", out.strip()) == (
        0,
        f"ok {len(log) + 1} events, extends checkpoint {len(log)}\n",
        "",
    )


@pytest.mark.django_db
def test_verify_with_a_checkpoint_detects_a_truncated_log(log: list[int]) -> None:
    _code, checkpoint, _err = run_audit("checkpoint")
    drop_triggers()
    AuditEvent.objects.filter(pk__gte=log[-2]).delete()
    assert run_audit("verify")[0] == 0  # the chain alone cannot see a cut-off tail
    code, _out, err = run_audit("verify", "--checkpoint", checkpoint.strip())
    assert code == 1
    assert f"log: truncated: it has {len(log) - 2} events, the checkpoint {len(log)}" in err


@pytest.mark.django_db
def test_verify_with_a_checkpoint_detects_a_log_rewritten_with_new_hashes(
    log: list[int],
) -> None:
    _code, checkpoint, _err = run_audit("checkpoint")
    drop_triggers()
    AuditEvent.objects.filter(pk=log[1]).update(actor_name="someone else")
    prev = AuditEvent.objects.get(pk=log[0]).hash
    for event_id in log[1:]:
        digest = rehash(event_id, prev)
        AuditEvent.objects.filter(pk=event_id).update(prev_hash=prev, hash=digest)
        prev = digest
    assert run_audit("verify")[0] == 0
    code, _out, err = run_audit("verify", "--checkpoint", checkpoint.strip())
    assert code == 1
    assert f"event #{log[-1]}: rewritten" in err


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["abc", "0:" + "0" * 64, "3:xyz", "3:" + "g" * 64])
def test_verify_refuses_a_malformed_checkpoint(log: list[int], bad: str) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a checkpoint"):
        run_audit("verify", "--checkpoint", bad)


@pytest.mark.django_db
def test_checkpoint_of_an_empty_log_is_an_error() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="empty"):
        run_audit("checkpoint")
