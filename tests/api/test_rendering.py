"""The API's JSON writer (orjson) writes what ninja's encoder (Django's plus pydantic) wrote."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy, override
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from qiyue.api.rendering import dumps


class _Item(Schema):
    name: str
    at: datetime


def _reference(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False))


def test_every_value_the_api_returns_is_written_as_django_wrote_it() -> None:
    at = datetime(2026, 12, 5, 21, 24, 50, 628996, tzinfo=UTC)
    data = {
        "with_micro": at,
        "whole_second": at.replace(microsecond=0),
        "day": date(2026, 2, 28),
        "clock": time(9, 30),
        "span": timedelta(days=2, hours=3),
        "amount": Decimal("80000.00"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Draft"),
        "model": _Item(name="甲方", at=at),
        "nested": [{"n": 1, "f": 0.1, "b": True, "none": None}],
        7: "an integer key",
    }
    with override("en"):
        written = json.loads(dumps(data))
        assert written == _reference(data)
    assert written["with_micro"] == "2026-12-05T21:24:50.628Z"
    assert written["whole_second"] == "2026-12-05T21:24:50Z"


def test_markup_is_escaped_and_chinese_is_written_as_utf8() -> None:
    text = dumps({"title": '<script>alert("x")</script> & 合同'})
    assert b"<" not in text and b">" not in text and b"&" not in text
    assert "合同".encode() in text
    assert json.loads(text) == {"title": '<script>alert("x")</script> & 合同'}
