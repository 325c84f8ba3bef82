"""The audit chain's JSON (``chain.normalize_data``, ``chain.canonical``) is byte for
byte what ``json.dumps`` wrote when the chain was designed, although its encoders are
built once and data already in JSON types is taken as it is; ``record_many`` writes the
events ``record()`` would, and ``audit verify`` checks them."""

from __future__ import annotations

import enum
import hashlib
import io
import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils.translation import gettext_lazy

from qiyue.accounts.models import User
from qiyue.audit import actions, chain
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import ContractState


class Level(enum.IntEnum):
    HIGH = 3


PAYLOADS: list[Any] = [
    None,
    {},
    {"a": 1},
    {"b": "合同", "a": [1, 2], "c": None, "d": True, "e": False},
    {"after": {"title": '软件许可 ✓ "quoted" \\ back\nline\ttab', "amount": "1.10"}},
    {"nested": {"z": {"y": [{"x": "ü"}, [], {}], "a": ""}, "0": 0, "-1": -1}},
    {"emoji": "😀", "surrogate": "\ud800", "control": "\x00\x1f\x7f", "ls": "\u2028"},
    {"big": 10**30, "neg": -(10**20), "zero": 0},
    {"state": ContractState.ACTIVE, "level": Level.HIGH},
    {"tuple": (1, "a"), "list": [1, (2, 3)]},
    {"amount": Decimal("1.10"), "on": date(2026, 1, 2)},
    {"at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "id": uuid.UUID(int=5)},
    {"float": 1.5, "small": 1e-7},
    {"negzero": -0.0},
    {"big float": 1e20, "huge": 1e300, "nan": float("nan"), "inf": float("-inf")},
    {1: "int key", "2": "text key"},
    {3: "a", 10: "b"},
    {"lazy": gettext_lazy("Contract")},
    {"after": {"tags": ["甲", "乙"], "number": "XS-2026-00001"}, "via": "import"},
    # Keys sorted by code point whatever their UTF-8 length; integers at the edges of 64 bits.
    {"😀": 1, "\uffff": 2, "é": 3, "z": 4, "Z": 5, "": 6, "a\x01": 7},
    {"u64": 2**64 - 1, "i64": -(2**63), "past": 2**64, "below": -(2**63) - 1},
    {"escapes": '\b\f\n\r\t"\\/\x01\x7f\x80\u00a0\u2029\ufeff', "nested": [[[{}]], [""]]},
]


def reference_normalize(data: Any) -> tuple[dict[str, Any], str]:
    """``chain.normalize_data`` as it was written first, with ``json.dumps``; since
    2026-12-05 -0.0 is stored as 0.0, as PostgreSQL's jsonb gives it back."""
    if not data:
        return {}, "{}"
    text = json.dumps(data, cls=DjangoJSONEncoder)
    plain = json.loads(text)
    if "e+" in text or "NaN" in text or "Infinity" in text or "-0.0" in text:
        plain = chain._plain(plain)
        text = json.dumps(plain)
    return plain, text


def reference_canonical(**doc: Any) -> bytes:
    """``chain.canonical`` as it was written first, with ``json.dumps``."""
    doc["at"] = chain.utc_iso(doc["at"])
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def same_json(text: str, want_text: str) -> bool:
    """Two JSON texts that decode to the same values, of the same types: the stored text
    need not be the reference's byte for byte (plain data is written by orjson, without
    spaces or escapes), only decode to what it did."""
    return json.dumps(json.loads(text), sort_keys=True) == json.dumps(
        json.loads(want_text), sort_keys=True
    )


def old_event(prev_hash: str, fields: dict[str, Any], raw: Any) -> tuple[str, dict[str, Any], str]:
    """The hash, data and stored text as first written (the reference)."""
    data, text = reference_normalize(raw)
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(reference_canonical(**{**fields, "data": data}))
    return digest.hexdigest(), data, text


@pytest.mark.parametrize("raw", PAYLOADS, ids=range(len(PAYLOADS)))
def test_normalized_data_and_its_text_decode_as_with_json_dumps(raw: Any) -> None:
    data, text, _plain = chain.normalize_data(raw)
    want_data, want_text = reference_normalize(raw)
    assert same_json(text, want_text)
    assert json.dumps(data, sort_keys=True) == json.dumps(want_data, sort_keys=True)
    assert all(type(k) is str for k in data)


@pytest.mark.parametrize("raw", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize(
    ("actor_id", "actor_name", "action", "target_type", "target_id"),
    [
        (1, "admin", "contract.created", "contract", "12"),
        (None, "system", "x.y", "auditevent", "0"),
        (7, '张三 "q" ✓', "合同.导入", "type\\", "a-b 😀"),
    ],
)
def test_the_canonical_json_is_byte_for_byte_what_json_dumps_wrote(
    raw: Any, actor_id: int | None, actor_name: str, action: str, target_type: str,
    target_id: str,
) -> None:  # fmt: skip
    data, _text, _plain = chain.normalize_data(raw)
    for at in (
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 11, 27, 8, 0, tzinfo=timezone(timedelta(hours=8))),
    ):
        fields = {
            "at": at,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "data": data,
        }
        for event_id in (1, 42, 10**12):
            assert chain.canonical(id=event_id, **fields) == reference_canonical(
                id=event_id, **fields
            )


@pytest.mark.django_db
def test_record_many_writes_what_record_would_and_the_log_verifies(org: Any) -> None:
    # PostgreSQL's jsonb refuses a lone surrogate and NUL (with record() as well); -0.0
    # is stored as 0.0 on both databases, as jsonb gives it back.
    storable = [
        raw
        for raw in PAYLOADS
        if connection.vendor == "sqlite" or not (raw and {"surrogate"} & set(raw))
    ]
    items = [(pk, raw) for pk, raw in enumerate(storable, start=100)]
    with transaction.atomic():
        actions.record(actor=org.sales1, action="x.before", target=org.sales1)
        actions.record_many(actor=org.sales2, action="x.many", model=User, items=items)
        actions.record_many(actor=None, action="x.one", model=User, items=items[3:4])
    events = list(AuditEvent.objects.order_by("id"))
    many = [e for e in events if e.action == "x.many"]
    assert len(many) == len(items)
    for event, (pk, raw) in zip(many, items, strict=True):
        fields = {
            "id": event.pk,
            "at": event.at,
            "actor_id": org.sales2.pk,
            "actor_name": "sales2",
            "action": "x.many",
            "target_type": "user",
            "target_id": str(pk),
        }
        want_hash, want_data, want_text = old_event(event.prev_hash, fields, raw)
        assert (event.hash, event.data) == (want_hash, want_data)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                table = connection.ops.quote_name(AuditEvent._meta.db_table)
                cursor.execute(f"SELECT data FROM {table} WHERE id = %s", [event.pk])  # noqa: S608
                assert same_json(cursor.fetchone()[0], want_text)
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue() == f"ok {len(events)} events\n"
