"""The hash chain of the audit log, as pure functions (no models, no database).

Every event carries ``prev_hash`` (the ``hash`` of the event before it, or
:data:`GENESIS` for the first) and ``hash = SHA-256(prev_hash ‖ canonical JSON)``, where
``prev_hash`` enters as its 64 ASCII hex characters and the canonical JSON is
:func:`canonical`. Writing (``audit.actions``) and verifying (``audit.integrity``) both
call :func:`event_hash`, so the two can never disagree about the format.

Changing anything here invalidates every stored hash: don't, except together with a
migration that re-chains the log and a note in ``docs/decisions/``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder

GENESIS = "0" * 64
# Floats at or above this size come back from PostgreSQL's jsonb as integers
# (1e+20 → 100000000000000000000); storing them as integers in the first place keeps
# the hash identical whichever database read the row back.
_FLOAT_AS_INT = 1e16


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            return repr(value)
        if value.is_integer() and abs(value) >= _FLOAT_AS_INT:
            return int(value)
        if value == 0:  # jsonb has no negative zero: -0.0 comes back as 0.0
            return 0.0
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# The encoders, built once: ``json.dumps`` with any argument but the data builds a new
# encoder on every call, which costs more than encoding a small event. Same settings,
# same output, byte for byte (tests/audit/test_chain_encoding.py).
_STORED = DjangoJSONEncoder()  # json.dumps(data, cls=DjangoJSONEncoder)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _json_plain(value: Any) -> bool:
    """Whether ``value`` is already what its JSON decodes to: dicts with text keys,
    lists, text, integers, booleans and None, of exactly those types (no floats,
    decimals, dates, tuples, enums or lazy texts)."""
    if type(value) is dict:
        for key in value:
            if type(key) is not str:
                return False
        items: Any = value.values()
    elif type(value) is list:
        items = value
    else:
        return type(value) in _PLAIN_TYPES
    for item in items:  # a loop, not a call per value: this runs for every event
        kind = type(item)
        if kind in _PLAIN_TYPES:
            continue
        if (kind is not dict and kind is not list) or not _json_plain(item):
            return False
    return True


def normalize_data(data: dict[str, Any] | None) -> tuple[dict[str, Any], str, bool]:
    """``data`` exactly as the database will give it back: JSON types only (dates,
    decimals, UUIDs… as the strings ``DjangoJSONEncoder`` makes of them), and as JSON
    text that decodes to it. Data in those types already is given back as it is. Third,
    whether it holds JSON types only, of exactly those types (no floats): then
    :func:`canonical` need not look again (``data_is_plain``)."""
    if not data:
        return {}, "{}", True
    if _json_plain(data):
        try:  # a fraction of the encoder's cost; the text differs, what it decodes to not
            return data, orjson.dumps(data).decode(), True
        except TypeError:  # integers past 64 bits, lone surrogates
            return data, _STORED.encode(data), True
    text = _STORED.encode(data)
    plain: dict[str, Any] = json.loads(text)
    # Only big floats ("1e+20"), non-finite ones and -0.0 need a second look; the test
    # on the text is cheap and at worst walks a dict whose strings contain "e+".
    if "e+" in text or "NaN" in text or "Infinity" in text or "-0.0" in text:
        plain = _plain(plain)
        text = json.dumps(plain)
    return plain, text, False


@functools.lru_cache(maxsize=16)  # the events of one transaction share their time
def utc_iso(at: datetime) -> str:
    """The time as ISO 8601 in UTC with microseconds, e.g. ``2026-01-02T03:04:05.000006+00:00``."""
    if at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(
    *,
    id: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    data: dict[str, Any],
    data_is_plain: bool = False,
) -> bytes:
    """The event as canonical JSON: sorted keys, no whitespace, UTF-8 (not escaped).
    ``data_is_plain``: ``data`` is known to hold JSON types only (:func:`normalize_data`)."""
    doc = {
        "id": id,
        "at": utc_iso(at),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "data": data,
    }
    plain_fields = (
        type(id) is int
        and (actor_id is None or type(actor_id) is int)
        and type(actor_name) is str
        and type(action) is str
        and type(target_type) is str
        and type(target_id) is str
    )
    if plain_fields and (data_is_plain or _json_plain(data)):
        # orjson writes JSON types exactly as this encoder does (sorted by code point,
        # the same escapes, UTF-8), at a fraction of the cost. It refuses lone
        # surrogates and integers past 64 bits; floats, whose text differs, never get
        # here (tests/audit/test_chain_encoding.py compares the two byte for byte).
        try:
            return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
    return _CANONICAL.encode(doc).encode("utf-8", "surrogatepass")


def event_hash(prev_hash: str, **fields: Any) -> str:
    """SHA-256 hex of ``prev_hash`` (ASCII hex) followed by :func:`canonical` of the event."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(**fields)).hexdigest()
