"""Pages of reminders: the user's reminders and calendar feed, one-off reminders on a
contract, and the administrators' rule and webhook editors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from qiyue.contracts.queries import contract_for, contract_types
from qiyue.lib.errors import FieldErrors
from qiyue.reminders import actions, queries
from qiyue.reminders.ical import calendar_for
from qiyue.reminders.models import DeadlineKind, ReminderRule, kind_label
from qiyue.web.views.common import PAGE_SIZES, flash_errors, paginate, require_admin

# The user's reminders -------------------------------------------------------------------


@never_cache  # shows the secret calendar feed URL
@login_required
def my_reminders(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    prefs = queries.settings_for(user)
    upcoming = [{"d": d, "label": kind_label(d.kind)} for d in queries.upcoming_deadlines(user)]
    token = prefs.calendar_token
    feed_url = (
        request.build_absolute_uri(reverse("web:calendar_feed", args=[token])) if token else ""
    )
    return render(
        request,
        "web/reminders/my.html",
        {
            "page": paginate(request, queries.occurrences_of(user)),
            "page_sizes": PAGE_SIZES,
            "upcoming": upcoming,
            "upcoming_days": queries.UPCOMING_DAYS,
            "prefs": prefs,
            "feed_url": feed_url,
        },
    )


@login_required
@require_POST
def reminder_ack(request: HttpRequest, pk: int) -> HttpResponse:
    occurrence = queries.occurrence_for(request.user, pk)  # type: ignore[arg-type]
    actions.acknowledge(actor=request.user, occurrence=occurrence)  # type: ignore[arg-type]
    messages.success(request, _("Reminder acknowledged."))
    return redirect("web:my_reminders")


@login_required
@require_POST
def reminder_settings(request: HttpRequest) -> HttpResponse:
    enabled = request.POST.get("daily_digest") in {"1", "on", "true"}
    actions.set_digest(actor=request.user, enabled=enabled)  # type: ignore[arg-type]
    messages.success(request, _("Reminder settings saved."))
    return redirect("web:my_reminders")


@never_cache
@login_required
@require_POST
def calendar_token(request: HttpRequest) -> HttpResponse:
    if request.POST.get("action") == "revoke":
        actions.revoke_calendar_token(actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("The calendar link no longer works."))
    else:
        actions.new_calendar_token(actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("A new calendar link was made; the old one no longer works."))
    return redirect("web:my_reminders")


@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret-URL calendar: no login (calendar apps cannot log in), the token is
    the credential; an unknown or revoked token answers 404."""
    user = queries.user_for_calendar_token(token)
    if user is None:
        raise Http404
    response = HttpResponse(calendar_for(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="qiyue.ics"'
    return response


# One-off reminders on a contract --------------------------------------------------------


@login_required
def contract_reminders(request: HttpRequest, pk: int) -> HttpResponse:
    """The user's one-off reminders on a contract (a fragment of the contract page,
    loaded after it), and the form to add one."""
    user: Any = request.user
    contract = contract_for(user, pk)
    errors: dict[str, str] = {}
    values = {"day": "", "text": ""}
    fragment = bool(request.headers.get("HX-Request"))
    if request.method == "POST":
        values = {"day": request.POST.get("day", ""), "text": request.POST.get("text", "")}
        try:
            actions.add_one_off(
                actor=user, contract=contract, day=values["day"], text=values["text"]
            )
        except FieldErrors as exc:
            errors = exc.errors
        else:
            if not fragment:
                messages.success(request, _("Reminder set."))
                return redirect("web:contract_detail", pk=contract.pk)
            values = {"day": "", "text": ""}
    return render(
        request,
        "web/reminders/contract_reminders.html",
        {
            "c": contract,
            "reminders": queries.one_offs_for(user, contract),
            "errors": errors,
            "values": values,
            "fragment": fragment,
            "base_template": "web/reminders/_fragment.html" if fragment else "web/base.html",
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def one_off_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = queries.one_off_for(request.user, pk)  # type: ignore[arg-type]
    contract_pk = reminder.contract_id
    actions.delete_one_off(actor=request.user, reminder=reminder)  # type: ignore[arg-type]
    messages.success(request, _("Reminder removed."))
    return redirect("web:contract_detail", pk=contract_pk)


# Rules (administrators) ----------------------------------------------------------------


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    require_admin(request)
    rules = [{"rule": r, "kinds": [kind_label(k) for k in r.kinds]} for r in queries.rules()]
    return render(request, "web/reminders/rules.html", {"rules": rules})


def _rule_context(rule: ReminderRule | None, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule": rule,
        "values": values,
        "kinds": DeadlineKind.choices,
        "types": contract_types(),
    }


def _rule_values(rule: ReminderRule | None) -> dict[str, Any]:
    if rule is None:
        return {
            "name": "",
            "contract_type": "",
            "kinds": [DeadlineKind.CONTRACT_EXPIRY.value, DeadlineKind.CONTRACT_CANCEL_BY.value],
            "offsets": "90, 60, 30, 7",
            "on_the_day": True,
            "overdue": False,
            "by_email": True,
            "by_webhook": False,
            "escalate_after_days": "",
            "is_active": True,
            "version": "",
        }
    return {
        "name": rule.name,
        "contract_type": str(rule.contract_type_id or ""),
        "kinds": list(rule.kinds),
        "offsets": ", ".join(str(n) for n in rule.offsets),
        "on_the_day": rule.on_the_day,
        "overdue": rule.overdue,
        "by_email": rule.by_email,
        "by_webhook": rule.by_webhook,
        "escalate_after_days": rule.escalate_after_days or "",
        "is_active": rule.is_active,
        "version": rule.version,
    }


@login_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = require_admin(request)
    rule = None if pk is None else queries.rule_for(pk)
    values = _rule_values(rule)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data: dict[str, Any] = {k: request.POST.get(k, "") for k in values}
        data["kinds"] = request.POST.getlist("kinds")
        values = {**data}
        for flag in ("on_the_day", "overdue", "by_email", "by_webhook", "is_active"):
            values[flag] = bool(data[flag])
        try:
            actions.save_rule(actor=actor, data=data, rule=rule, version=data.get("version"))
        except actions.StaleRule as exc:
            errors, status = exc.errors, 409
        except FieldErrors as exc:
            errors, status = exc.errors, 400
        else:
            messages.success(request, _("Reminder rule saved."))
            return redirect("web:reminder_rules")
    context = _rule_context(rule, values)
    context["errors"] = errors
    return render(request, "web/reminders/rule_form.html", context, status=status)


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = require_admin(request)
    rule = queries.rule_for(pk)
    actions.delete_rule(actor=actor, rule=rule)
    messages.success(request, _("Reminder rule deleted."))
    return redirect("web:reminder_rules")


# Webhook endpoints (administrators) -------------------------------------------------------


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    actor = require_admin(request)
    errors: dict[str, str] = {}
    values = {"name": "", "url": ""}
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""), "url": request.POST.get("url", "")}
        try:
            actions.create_endpoint(actor=actor, name=values["name"], url=values["url"])
        except FieldErrors as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Webhook endpoint added."))
            return redirect("web:reminder_webhooks")
    return render(
        request,
        "web/reminders/webhooks.html",
        {"endpoints": queries.endpoints(), "errors": errors, "values": values},
        status=400 if errors else 200,
    )


@login_required
@require_POST
def webhook_change(request: HttpRequest, pk: int) -> HttpResponse:
    actor = require_admin(request)
    endpoint = queries.endpoint_for(pk)
    what = request.POST.get("action")
    if what == "delete":
        actions.delete_endpoint(actor=actor, endpoint=endpoint)
    elif what in {"enable", "disable"}:
        actions.set_endpoint_active(actor=actor, endpoint=endpoint, active=what == "enable")
    else:
        flash_errors(request, {"action": _("Unknown action.")})
    return redirect("web:reminder_webhooks")
