"""Writes of the reminders area: rules, one-off reminders, acknowledging, the user's
settings (digest, calendar token) and webhook endpoints.

Each action is one transaction that writes its audit event; bad input raises
:class:`~qiyue.lib.errors.FieldErrors` with translated messages and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qiyue.accounts.models import User
from qiyue.audit.actions import record
from qiyue.contracts.models import Contract, ContractType
from qiyue.lib.errors import FieldErrors
from qiyue.reminders.models import (
    MAX_ESCALATION_DAYS,
    MAX_OFFSET_DAYS,
    DeadlineKind,
    Occurrence,
    OneOffReminder,
    ReminderRule,
    ReminderSettings,
    WebhookDelivery,
    WebhookEndpoint,
    new_token,
)

MAX_OFFSETS = 10
SIGNATURE_HEADER = "X-Qiyue-Signature"


class StaleRule(FieldErrors):
    def __init__(self) -> None:
        super().__init__(
            {"__all__": _("Someone else changed this rule meanwhile. Reload and try again.")}
        )


def _require_admin(actor: User) -> None:
    if not actor.has_perm_code("admin"):
        raise PermissionError("admin")


# Rules ----------------------------------------------------------------------------------


def parse_offsets(value: Any) -> list[int]:
    """ "90, 60, 30, 7" → [90, 60, 30, 7]; FieldErrors when not whole days in range."""
    items = value if isinstance(value, list) else str(value or "").replace("，", ",").split(",")
    out: set[int] = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            n = int(text)
        except ValueError:
            raise FieldErrors(
                {"offsets": _("Days before must be whole numbers, e.g. 90, 60, 30, 7.")}
            ) from None
        if not 1 <= n <= MAX_OFFSET_DAYS:
            raise FieldErrors(
                {
                    "offsets": _("Days before must be between 1 and %(max)d.")
                    % {"max": MAX_OFFSET_DAYS}
                }
            )
        out.add(n)
    if len(out) > MAX_OFFSETS:
        raise FieldErrors(
            {"offsets": _("At most %(max)d reminders before a deadline.") % {"max": MAX_OFFSETS}}
        )
    return sorted(out, reverse=True)


def clean_rule_data(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the rule a name.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    out["name"] = name
    type_id = data.get("contract_type")
    out["contract_type"] = None
    if type_id not in (None, ""):
        try:
            out["contract_type"] = ContractType.objects.get(pk=int(str(type_id)))
        except (ValueError, ContractType.DoesNotExist):
            errors["contract_type"] = _("Choose a contract type from the list.")
    kinds = data.get("kinds") or []
    if isinstance(kinds, str):
        kinds = [kinds]
    valid = {k.value for k in DeadlineKind}
    if not kinds:
        errors["kinds"] = _("Choose at least one deadline.")
    elif any(k not in valid for k in kinds):
        errors["kinds"] = _("Choose deadlines from the list.")
    out["kinds"] = [k for k in DeadlineKind.values if k in kinds]
    try:
        out["offsets"] = parse_offsets(data.get("offsets"))
    except FieldErrors as exc:
        errors.update(exc.errors)
    for flag in ("on_the_day", "overdue", "by_email", "by_webhook", "is_active"):
        out[flag] = str(data.get(flag, "")).lower() in {"1", "true", "on", "yes"}
    escalate = data.get("escalate_after_days")
    out["escalate_after_days"] = None
    if escalate not in (None, ""):
        try:
            n = int(str(escalate))
            if not 1 <= n <= MAX_ESCALATION_DAYS:
                raise ValueError
            out["escalate_after_days"] = n
        except ValueError:
            errors["escalate_after_days"] = _(
                "Escalation needs a whole number of working days from 1 to %(max)d."
            ) % {"max": MAX_ESCALATION_DAYS}
    if not errors and not out["offsets"] and not out["on_the_day"] and not out["overdue"]:
        errors["offsets"] = _("Choose at least one day to remind on.")
    if errors:
        raise FieldErrors(errors)
    return out


def save_rule(
    *, actor: User, data: dict[str, Any], rule: ReminderRule | None = None, version: Any = None
) -> ReminderRule:
    """Create a rule, or change ``rule`` if ``version`` is still current."""
    _require_admin(actor)
    fields = clean_rule_data(data)
    with transaction.atomic():
        if rule is None:
            rule = ReminderRule.objects.create(**fields)
            record(actor=actor, action="reminders.rule_created", target=rule, data=_rule_data(rule))
            return rule
        try:
            expected = int(str(version))
        except (TypeError, ValueError):
            raise StaleRule() from None
        updated = ReminderRule.objects.filter(pk=rule.pk, version=expected).update(
            **{**fields, "contract_type": fields["contract_type"]}, version=expected + 1
        )
        if updated != 1:
            raise StaleRule()
        rule.refresh_from_db()
        record(actor=actor, action="reminders.rule_changed", target=rule, data=_rule_data(rule))
        return rule


def _rule_data(rule: ReminderRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "contract_type": rule.contract_type_id,
        "kinds": rule.kinds,
        "offsets": rule.offsets,
        "on_the_day": rule.on_the_day,
        "overdue": rule.overdue,
        "by_email": rule.by_email,
        "by_webhook": rule.by_webhook,
        "escalate_after_days": rule.escalate_after_days,
        "is_active": rule.is_active,
    }


def delete_rule(*, actor: User, rule: ReminderRule) -> None:
    _require_admin(actor)
    with transaction.atomic():
        record(actor=actor, action="reminders.rule_deleted", target=rule, data=_rule_data(rule))
        rule.delete()


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "name": "到期与续约提醒",
        "kinds": [DeadlineKind.CONTRACT_EXPIRY, DeadlineKind.CONTRACT_CANCEL_BY],
        "offsets": [90, 60, 30, 7],
        "on_the_day": True,
        "overdue": False,
        "escalate_after_days": 3,
    },
    {
        "name": "回款、开票与履约提醒",
        "kinds": [
            DeadlineKind.INSTALMENT_DUE,
            DeadlineKind.INVOICE_TO_ISSUE,
            DeadlineKind.OBLIGATION_DUE,
        ],
        "offsets": [7],
        "on_the_day": True,
        "overdue": True,
        "escalate_after_days": 3,
    },
    {
        "name": "逾期与一次性提醒",
        "kinds": [
            DeadlineKind.INSTALMENT_OVERDUE,
            DeadlineKind.APPROVAL_OVERDUE,
            DeadlineKind.ONE_OFF,
        ],
        "offsets": [],
        "on_the_day": True,
        "overdue": False,
        "escalate_after_days": None,
    },
]


def ensure_default_rules(*, actor: User | None = None) -> int:
    """Create the default rules (for every contract type) when there are none."""
    with transaction.atomic():
        if ReminderRule.objects.filter(contract_type__isnull=True).exists():
            return 0
        for spec in DEFAULT_RULES:
            rule = ReminderRule.objects.create(
                **{**spec, "kinds": [str(k) for k in spec["kinds"]]}, by_email=True
            )
            record(actor=actor, action="reminders.rule_created", target=rule, data=_rule_data(rule))
        return len(DEFAULT_RULES)


# One-off reminders ----------------------------------------------------------------------


def add_one_off(*, actor: User, contract: Contract, day: Any, text: Any) -> OneOffReminder:
    """A reminder for ``actor`` on ``day`` about ``contract`` (which the caller checked
    ``actor`` may view)."""
    errors: dict[str, str] = {}
    when: date | None
    try:
        when = day if isinstance(day, date) else parse_date(str(day or "").strip())
    except ValueError:
        when = None
    if when is None:
        errors["day"] = _("Enter a date like 2027-03-31.")
    elif when < timezone.localdate():
        errors["day"] = _("The date is in the past.")
    elif when.year > timezone.localdate().year + 50:
        errors["day"] = _("The date is too far ahead.")
    clean = str(text or "").strip()
    if not clean:
        errors["text"] = _("Say what to be reminded of.")
    elif len(clean) > 200:
        errors["text"] = _("At most 200 characters.")
    if errors:
        raise FieldErrors(errors)
    assert when is not None
    with transaction.atomic():
        reminder = OneOffReminder.objects.create(
            contract=contract, user=actor, day=when, text=clean
        )
        record(
            actor=actor,
            action="reminders.one_off_added",
            target=contract,
            data={"reminder": reminder.pk, "day": when.isoformat(), "text": clean},
        )
    return reminder


def delete_one_off(*, actor: User, reminder: OneOffReminder) -> None:
    if reminder.user_id != actor.pk:
        raise PermissionError("not yours")
    with transaction.atomic():
        record(
            actor=actor,
            action="reminders.one_off_deleted",
            target=reminder.contract,
            data={"reminder": reminder.pk, "day": reminder.day.isoformat(), "text": reminder.text},
        )
        reminder.delete()


# Acknowledging ---------------------------------------------------------------------------


def acknowledge(*, actor: User, occurrence: Occurrence) -> int:
    """Acknowledge a reminder of ``actor``'s, with the earlier reminders about the same
    deadline (so none of them escalates); the number acknowledged."""
    if occurrence.user_id != actor.pk:
        raise PermissionError("not yours")
    with transaction.atomic():
        count = Occurrence.objects.filter(
            user=actor,
            kind=occurrence.kind,
            object_key=occurrence.object_key,
            due=occurrence.due,
            acknowledged_at__isnull=True,
        ).update(acknowledged_at=timezone.now())
        if count:
            record(
                actor=actor,
                action="reminders.acknowledged",
                target=occurrence,
                data={"count": count, "key": occurrence.key},
            )
    return count


# The user's settings -------------------------------------------------------------------


def set_digest(*, actor: User, enabled: bool) -> ReminderSettings:
    with transaction.atomic():
        prefs, _created = ReminderSettings.objects.get_or_create(user=actor)
        prefs.daily_digest = enabled
        prefs.save(update_fields=["daily_digest"])
        record(actor=actor, action="reminders.digest_set", target=actor, data={"enabled": enabled})
    return prefs


def new_calendar_token(*, actor: User) -> str:
    """A new secret calendar URL for ``actor`` (the old one stops working)."""
    with transaction.atomic():
        prefs, _created = ReminderSettings.objects.get_or_create(user=actor)
        prefs.calendar_token = new_token()
        prefs.save(update_fields=["calendar_token"])
        record(actor=actor, action="reminders.calendar_token_created", target=actor, data={})
    return prefs.calendar_token


def revoke_calendar_token(*, actor: User) -> None:
    with transaction.atomic():
        updated = ReminderSettings.objects.filter(user=actor, calendar_token__isnull=False).update(
            calendar_token=None
        )
        if updated:
            record(actor=actor, action="reminders.calendar_token_revoked", target=actor, data={})


# Webhook endpoints ----------------------------------------------------------------------


def create_endpoint(*, actor: User, name: Any, url: Any) -> WebhookEndpoint:
    _require_admin(actor)
    errors: dict[str, str] = {}
    clean_name = str(name or "").strip()
    if not clean_name or len(clean_name) > 100:
        errors["name"] = _("Give the endpoint a name of at most 100 characters.")
    clean_url = str(url or "").strip()
    try:
        parts = urlsplit(clean_url)
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
        parts.port  # noqa: B018 -- raises ValueError on a port out of range
    except ValueError:  # "http://[::1" and the like
        valid = False
    if not valid or len(clean_url) > 500 or any(ch.isspace() for ch in clean_url):
        errors["url"] = _("Enter an http:// or https:// address.")
    if errors:
        raise FieldErrors(errors)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(name=clean_name, url=clean_url)
        record(
            actor=actor,
            action="reminders.webhook_created",
            target=endpoint,
            data={"name": clean_name, "url": clean_url},
        )
    return endpoint


def set_endpoint_active(*, actor: User, endpoint: WebhookEndpoint, active: bool) -> None:
    _require_admin(actor)
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=active)
        record(
            actor=actor,
            action="reminders.webhook_changed",
            target=endpoint,
            data={"active": active},
        )


def delete_endpoint(*, actor: User, endpoint: WebhookEndpoint) -> None:
    _require_admin(actor)
    with transaction.atomic():
        record(
            actor=actor,
            action="reminders.webhook_deleted",
            target=endpoint,
            data={"name": endpoint.name, "url": endpoint.url},
        )
        endpoint.delete()


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_payload(occ: Occurrence) -> dict[str, Any]:
    return {
        "event": "reminder",
        "id": occ.pk,
        "key": occ.key,
        "kind": occ.kind,
        "due": occ.due.isoformat(),
        "days_before": occ.offset,
        "day": occ.day.isoformat(),
        "title": occ.title,
        "contract_id": occ.contract_id,
        "user": occ.user.get_username(),
        "url": occ.url,
    }


Poster = Callable[[str, bytes, dict[str, str]], int]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to an endpoint an administrator entered. The server reaches whatever address
    that is, internal ones included (by design: webhooks often go to an intranet ERP),
    which is why only administrators may add endpoints. Redirects are not followed (a
    3xx counts as a failure), so an outside endpoint cannot send the request on to an
    address the administrator never entered."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ValueError("webhook URLs are http(s) only")
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with opener.open(request, timeout=10) as response:
        return int(response.status)


def deliver_webhook(delivery_id: int, post: Poster | None = None) -> bool:
    """POST one delivery (safe to run twice: a delivered one is not sent again). Raises
    on failure so the job retries; the attempt is recorded either way."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "occurrence__user")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status == WebhookDelivery.Status.DELIVERED:
        return False
    if not delivery.endpoint.is_active:
        return False
    body = json.dumps(webhook_payload(delivery.occurrence), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, body),
        "X-Qiyue-Delivery": str(delivery.pk),
    }
    error = ""
    try:
        status = (post or _post)(delivery.endpoint.url, body, headers)
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Exception as exc:  # any network failure: record it and let the job retry
        error = f"{type(exc).__name__}: {exc}"[:300]
    with transaction.atomic():
        if error:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                attempts=delivery.attempts + 1,
                last_error=error,
                status=WebhookDelivery.Status.FAILED,
            )
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                attempts=delivery.attempts + 1,
                last_error="",
                status=WebhookDelivery.Status.DELIVERED,
                delivered_at=timezone.now(),
            )
        record(
            actor=None,
            action="reminders.webhook_delivered" if not error else "reminders.webhook_failed",
            target=delivery.endpoint,
            data={"delivery": delivery.pk, "error": error},
        )
    if error:
        raise RuntimeError(error)
    return True
