"""Optional refinement of the proposals by a language model (off by default).

With ``QIYUE_LLM_URL`` set to an OpenAI-compatible chat completions endpoint (for
example a local ``http://127.0.0.1:8000/v1/chat/completions``; ``QIYUE_LLM_MODEL`` names
the model, ``QIYUE_LLM_API_KEY`` is sent as a bearer token), the model reads the start of
the contract and answers, per record field, a value and the exact words it took it from.
Only answers whose quote is found in the text are used — the span is where the quote
stands — and each value is checked like a rule's. The model confirms a rule's value
(higher confidence), fills a field the rules left empty, or replaces a weak rule value;
a person still confirms every proposal. Any failure (network, timeout, malformed answer)
leaves the rules' proposals as they were: the model is never required.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from qiyue.lib.money import CURRENCIES, MoneyError, parse_amount
from qiyue.review.mapping import INTS, LABELS, Draft, excerpt_of

log = logging.getLogger(__name__)

#: How much of the contract the model reads (the key terms stand near the start).
PROMPT_CHARS = 12_000
TIMEOUT = 30
MAX_ANSWER_BYTES = 2_000_000
#: Confidence of a value only the model found; of a rule's value the model confirmed.
MODEL_ONLY = 0.6
CONFIRMED = 0.9
#: Below this, a rule's value gives way to a different one the model found.
WEAK_RULE = 0.7

PROMPT = """You read a contract and fill in its record. Answer only a JSON object whose keys
are some of: {fields}. Each value is an object {{"value": ..., "quote": "..."}} where quote
copies, character for character, the shortest passage of the contract the value comes from.
Formats: dates YYYY-MM-DD; amount {{"amount": "1234.56", "currency": "CNY"}} (the total
contract price, not an instalment or a penalty); tax_rate a percent number; auto_renew
true/false; renewal_term_months and notice_period_days whole numbers; counterparty the
customer's full company name. Leave out any field the contract does not state."""


def setting(name: str) -> str:
    return str(getattr(settings, name, "") or os.environ.get(name, "") or "")


def enabled() -> bool:
    return bool(setting("QIYUE_LLM_URL"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer is then raised as an HTTPError


def _read(response: Any) -> bytes:
    """The body, refused past :data:`MAX_ANSWER_BYTES` or :data:`TIMEOUT` seconds in all
    (the socket timeout alone bounds each read, not a server that trickles bytes)."""
    deadline = time.monotonic() + TIMEOUT
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(65_536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ValueError("the answer is too large")
        if time.monotonic() > deadline:
            raise TimeoutError("the answer took too long")
        chunks.append(chunk)
    return b"".join(chunks)


def _ask(text: str) -> dict[str, Any]:
    """The model's answer as a dict (raises on any failure)."""
    fields = ", ".join(LABELS)
    body = {
        "model": setting("QIYUE_LLM_MODEL") or "default",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": PROMPT.format(fields=fields)},
            {"role": "user", "content": text[:PROMPT_CHARS]},
        ],
    }
    headers = {"Content-Type": "application/json"}
    key = setting("QIYUE_LLM_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(  # noqa: S310 - the admin's own configured endpoint
        setting("QIYUE_LLM_URL"), data=json.dumps(body).encode(), headers=headers
    )
    # No redirects: urllib would send the Authorization header on to wherever one points.
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=TIMEOUT) as response:
        data = json.loads(_read(response).decode("utf-8"))
    content = str(data["choices"][0]["message"]["content"]).strip()
    if content.startswith("```"):
        content = content.strip("`").removeprefix("json").strip()
    answer = json.loads(content)
    if not isinstance(answer, dict):
        raise ValueError("the answer is not an object")
    return answer


def _check(field: str, value: Any) -> Any:
    """The model's value in the proposals' canonical form, or None if it is not valid."""
    try:
        if field in {"signed_date", "effective_date", "expiry_date"}:
            return date.fromisoformat(str(value)).isoformat()
        if field == "amount":
            raw = value if isinstance(value, dict) else {"amount": value}
            currency = raw.get("currency")
            return {
                "amount": str(parse_amount(raw.get("amount"))),
                "currency": currency if currency in CURRENCIES else None,
            }
        if field == "tax_rate":
            rate = Decimal(str(value)).quantize(Decimal("0.01"))
            return str(rate) if Decimal(0) <= rate <= Decimal(100) else None
        if field == "auto_renew":
            return value if isinstance(value, bool) else None
        if field in INTS:
            low, high = INTS[field]
            is_int = isinstance(value, int) and not isinstance(value, bool)
            return value if is_int and low <= value <= high else None
        if field == "counterparty":
            name = str(value).strip()
            return {"name": name[:200], "alternatives": []} if name else None
        if field in {"title", "payment_terms"}:
            limit = 200 if field == "title" else 2000
            return str(value).strip()[:limit] or None
    except (ValueError, TypeError, InvalidOperation, MoneyError, AttributeError):
        return None
    return None


def refine(text: str, drafts: list[Draft]) -> list[Draft]:
    """The rules' proposals, refined by the model when one is configured."""
    if not enabled() or not text.strip():
        return drafts
    try:
        answer = _ask(text)
    except Exception as exc:
        # The exception's words only: never the endpoint's address (it may carry a key).
        log.warning("LLM refinement skipped: %s", _redacted(exc))
        return drafts
    by_field = {d.field: d for d in drafts}
    for field, item in answer.items():
        if field not in LABELS or not isinstance(item, dict):
            continue
        value = _check(field, item.get("value"))
        quote = str(item.get("quote") or "").strip()
        start = text.find(quote) if quote else -1
        if value is None or start < 0:
            continue
        end = start + len(quote)
        rule = by_field.get(field)
        if rule is not None and _same(field, rule.value, value):
            by_field[field] = replace(rule, confidence=max(rule.confidence, CONFIRMED))
        elif rule is None or rule.confidence < WEAK_RULE:
            excerpt, at = excerpt_of(text, start, end)
            by_field[field] = Draft(field, value, MODEL_ONLY, start, end, excerpt, at)
    order = {name: i for i, name in enumerate(LABELS)}
    return sorted(by_field.values(), key=lambda d: order.get(d.field, len(order)))


def _redacted(exc: Exception) -> str:
    message = f"{type(exc).__name__}: {exc}"
    for secret in (setting("QIYUE_LLM_URL"), setting("QIYUE_LLM_API_KEY")):
        if secret:
            message = message.replace(secret, "***")
    return message[:300]


def _same(field: str, a: Any, b: Any) -> bool:
    if field == "amount":
        return bool(Decimal(a["amount"]) == Decimal(b["amount"]))
    if field == "counterparty":
        return bool(a.get("name") == b.get("name"))
    return bool(a == b)
