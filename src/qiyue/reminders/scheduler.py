"""The reminder scheduler: which reminders are due on a day, sent exactly once.

For every deadline (from every source in :data:`~qiyue.reminders.sources.SOURCES`) and
every rule that covers its kind, the *current stage* on ``day`` is the latest stage
(90, 60, 30, 7 days before, on the day, the day after if overdue) whose date has come.
That stage's reminder is sent unless it already was: its :class:`Occurrence` key
(rule/kind/object/offset/due date) is unique and is written in the same transaction as
the notification, so running twice, two runs at once, or a run that crashed halfway and
is run again, send each reminder once and miss none. Only the current stage is sent, so
a deadline entered late, or days when the scheduler did not run (caught up for
:data:`CATCH_UP_DAYS`), give one reminder, not a burst of stale ones.

Side effects leave after commit: e-mail through the notification job, webhooks through
their own job (a slow endpoint never holds up the run)."""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from qiyue.accounts.models import User
from qiyue.accounts.queries import nearest_head
from qiyue.audit.actions import record
from qiyue.notifications.actions import in_language, notify
from qiyue.reminders.models import (
    MAX_OFFSET_DAYS,
    DeadlineKind,
    Occurrence,
    ReminderRule,
    ReminderSettings,
    SchedulerRun,
    WebhookDelivery,
    WebhookEndpoint,
)
from qiyue.reminders.sources import SOURCES, Deadline, Source
from qiyue.workdays.calendar import WorkCalendar, local_day

log = logging.getLogger(__name__)

# Days the scheduler looks back for stages it did not run on (server down, …).
CATCH_UP_DAYS = 7

# Unacknowledged reminders escalate only when their deadline is this close (or past).
ESCALATE_WITHIN_DAYS = 30

# One-off reminders fire on their day even when no rule lists them.
ONE_OFF_STAGES = [0]


def today() -> date:
    """The company's current date (``settings.TIME_ZONE``)."""
    return local_day()


def load_sources(paths: Iterable[str] | None = None) -> list[Source]:
    """The source functions; an area not installed yet is skipped with a warning."""
    found: list[Source] = []
    for path in SOURCES if paths is None else paths:
        try:
            found.append(import_string(path))
        except ImportError as exc:
            log.warning("reminder source %s is not available: %s", path, exc)
    return found


def _takes_owner(source: Source) -> bool:
    try:
        return "owner_id" in inspect.signature(source).parameters
    except (TypeError, ValueError):
        return False


def deadlines_between(start: date, end: date, owner_id: int | None = None) -> list[Deadline]:
    """The deadlines of every source due in ``[start, end]``; with ``owner_id`` only that
    user's, filtered by each source's query (a source without the ``owner_id``
    parameter is filtered here)."""
    out: list[Deadline] = []
    for source in load_sources():
        if owner_id is None:
            out.extend(source(start, end))
        elif _takes_owner(source):
            out.extend(source(start, end, owner_id=owner_id))
        else:
            out.extend(d for d in source(start, end) if d.owner_id == owner_id)
    return out


def stage_day(due: date, offset: int) -> date:
    """The day the reminder ``offset`` days before ``due`` is sent (-1: the day after)."""
    return due - timedelta(days=offset)


def current_stage(stages: list[int], due: date, day: date) -> int | None:
    """The latest of ``stages`` (days before ``due``) whose day is on or before ``day``:
    the fewest days before among those that have come."""
    return min((offset for offset in stages if stage_day(due, offset) <= day), default=None)


@dataclass
class Plan:
    """A reminder that is due: a deadline at one stage of one rule."""

    deadline: Deadline
    rule: ReminderRule | None
    offset: int
    day: date

    @property
    def key(self) -> str:
        d = self.deadline
        rule = self.rule.pk if self.rule else "builtin"
        return f"{rule}:{d.kind}:{d.object_key}:{self.offset}:{d.due.isoformat()}"[:200]


class Rules:
    """The active rules, by contract type (``None``: the default rules)."""

    def __init__(self) -> None:
        self.by_type: dict[int | None, list[ReminderRule]] = defaultdict(list)
        for rule in ReminderRule.objects.filter(is_active=True).order_by("id"):
            self.by_type[rule.contract_type_id].append(rule)

    def max_offset(self) -> int:
        days = [int(n) for rules in self.by_type.values() for r in rules for n in r.offsets]
        return min(max(days, default=0), MAX_OFFSET_DAYS)

    def for_deadline(self, kind: str, type_id: int | None) -> list[ReminderRule | None]:
        """The type's rules for ``kind``, else the default ones (one-off reminders
        without any: ``[None]``, the built-in day-of stage)."""
        typed: list[ReminderRule | None] = [
            r for r in self.by_type.get(type_id, []) if kind in r.kinds
        ]
        default: list[ReminderRule | None] = [
            r for r in self.by_type.get(None, []) if kind in r.kinds
        ]
        return typed or default or ([None] if kind == DeadlineKind.ONE_OFF else [])


def window_start(day: date) -> date:
    """The first day this run covers: the day after the last finished run (at most
    :data:`CATCH_UP_DAYS` back), else ``day`` itself."""
    last = (
        SchedulerRun.objects.filter(finished_at__isnull=False, day__lt=day)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if last is None:
        return day
    return max(last + timedelta(days=1), day - timedelta(days=CATCH_UP_DAYS))


def plan(day: date) -> list[Plan]:
    """Every reminder due on ``day`` (sent or not)."""
    rules = Rules()
    start = window_start(day)
    deadlines = deadlines_between(start - timedelta(days=1), day + timedelta(rules.max_offset()))
    contract_ids = {d.contract_id for d in deadlines if d.contract_id}
    from qiyue.contracts.models import Contract

    types = dict(Contract.objects.filter(pk__in=contract_ids).values_list("pk", "contract_type_id"))
    plans: list[Plan] = []
    for deadline in deadlines:
        for rule in rules.for_deadline(deadline.kind, types.get(deadline.contract_id)):
            stages = rule.stages() if rule else ONE_OFF_STAGES
            offset = current_stage(stages, deadline.due, day)
            if offset is None:
                continue
            # A past stage of a deadline that has gone by is stale unless this run
            # covers its day (catching up); a deadline still ahead gets its current
            # stage even when entered after that stage's day.
            if stage_day(deadline.due, offset) < start and deadline.due < day:
                continue
            plans.append(Plan(deadline=deadline, rule=rule, offset=offset, day=day))
    plans.sort(key=lambda p: (p.deadline.due, p.deadline.owner_id, p.key))
    return plans


def when_text(due: date, day: date) -> str:
    """ "in 13 days, on 2026-12-09" / "today" / "overdue since …", counted from ``day``
    (not from the stage: a reminder caught up late says how long is really left)."""
    left = (due - day).days
    if left > 0:
        return ngettext("in %(count)d day, on %(date)s", "in %(count)d days, on %(date)s", left) % {
            "count": left,
            "date": due.isoformat(),
        }
    if left == 0:
        return str(_("today, %(date)s") % {"date": due.isoformat()})
    return str(_("overdue since %(date)s") % {"date": due.isoformat()})


def line(occ: Occurrence, user: User) -> str:
    """One line of a run's output (a reminder sent, or with a dry run one to send)."""
    return f"{occ.day} {user.get_username()} {occ.kind} {occ.due} {occ.title}"


def _head_for(occ: Occurrence) -> User | None:
    """The head of the owner's department (else of the contract's): the nearest head
    up the tree who is not the owner."""
    dept = occ.user.department
    if dept is None and occ.contract is not None:
        dept = occ.contract.department
    head, _name = nearest_head(dept, {occ.user_id})
    return head


class Run:
    """One run of the scheduler for one day."""

    def __init__(self, day: date, *, dry_run: bool = False) -> None:
        self.day = day
        self.dry_run = dry_run
        self.lines: list[str] = []

    def execute(self) -> list[str]:
        plans = plan(self.day)
        existing = self._existing({p.key for p in plans})
        todo = [p for p in plans if p.key not in existing]
        users = User.objects.select_related("department").in_bulk(
            {p.deadline.owner_id for p in todo}
        )
        digest = set(
            ReminderSettings.objects.filter(
                user_id__in=users.keys(), daily_digest=True
            ).values_list("user_id", flat=True)
        )
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
        for p in todo:
            user = users.get(p.deadline.owner_id)
            if user is None or not user.is_active:
                continue
            if self.dry_run:
                with in_language(user):
                    title = self._title(p)
                preview = Occurrence(
                    day=self.day, kind=p.deadline.kind, due=p.deadline.due, title=title
                )
                self.lines.append(line(preview, user))
                continue
            _deliver(self, p, user, p.deadline.owner_id in digest, endpoints)
        self._send_digests()
        self._escalate()
        if not self.dry_run:
            requeue_lost_emails()
            with transaction.atomic():
                run, _created = SchedulerRun.objects.get_or_create(day=self.day)
                run.finished_at = timezone.now()
                run.sent += len(self.lines)
                run.save(update_fields=["finished_at", "sent"])
                record(
                    actor=None, action="reminders.run", target=run, data={"sent": len(self.lines)}
                )
        return self.lines

    @staticmethod
    def _existing(keys: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = sorted(keys)
        for i in range(0, len(ordered), 500):
            found.update(
                Occurrence.objects.filter(key__in=ordered[i : i + 500]).values_list(
                    "key", flat=True
                )
            )
        return found

    @staticmethod
    def _title(p: Plan) -> str:
        return str(
            _("%(title)s: %(when)s")
            % {"title": str(p.deadline.title), "when": when_text(p.deadline.due, p.day)}
        )[:300]

    def create(
        self, p: Plan, user: User, digest: bool, endpoints: list[WebhookEndpoint]
    ) -> Occurrence | None:
        """Write the occurrence and its notification in one transaction (None when a
        concurrent run wrote it first)."""
        with in_language(user):
            title = self._title(p)
        rule = p.rule
        try:
            with transaction.atomic():
                occ = Occurrence.objects.create(
                    key=p.key,
                    rule=rule,
                    user=user,
                    contract_id=p.deadline.contract_id or None,
                    kind=p.deadline.kind,
                    object_key=p.deadline.object_key[:80],
                    due=p.deadline.due,
                    offset=p.offset,
                    day=self.day,
                    title=title,
                    url=p.deadline.url,
                    digest=digest,
                    sent_at=None if digest else timezone.now(),
                    escalate_after_days=rule.escalate_after_days if rule else None,
                )
                if not digest:
                    notify(
                        user,
                        f"reminder.{p.deadline.kind}",
                        title,
                        url=p.deadline.url,
                        contract=occ.contract_id,
                        key=f"rem:{occ.pk}",
                        email=rule.by_email if rule else True,
                    )
                if rule is not None and rule.by_webhook:
                    for endpoint in endpoints:
                        delivery = WebhookDelivery.objects.create(endpoint=endpoint, occurrence=occ)
                        transaction.on_commit(_queue_webhook(delivery.pk))
                record(
                    actor=None,
                    action="reminders.sent",
                    target=occ,
                    data={"key": occ.key, "user": user.get_username(), "digest": digest},
                )
        except IntegrityError:
            return None
        if not digest:
            self.lines.append(line(occ, user))
        return occ

    def _send_digests(self) -> None:
        pending: dict[int, list[Occurrence]] = defaultdict(list)
        for occ in (
            Occurrence.objects.filter(digest=True, sent_at__isnull=True)
            .select_related("user")
            .order_by("due", "id")
        ):
            pending[occ.user_id].append(occ)
        for occs in pending.values():
            user = occs[0].user
            if self.dry_run:
                self.lines.extend(line(o, user) for o in occs)
                continue
            with transaction.atomic():
                ids = [o.pk for o in occs]
                claimed = Occurrence.objects.filter(pk__in=ids, sent_at__isnull=True).update(
                    sent_at=timezone.now()
                )
                if claimed != len(ids):  # a concurrent run is sending this digest
                    transaction.set_rollback(True)
                    continue
                with in_language(user):
                    title = ngettext(
                        "%(count)d reminder for %(date)s",
                        "%(count)d reminders for %(date)s",
                        len(occs),
                    ) % {"count": len(occs), "date": self.day.isoformat()}
                body = "\n".join(f"• {o.title}" for o in occs)
                notify(
                    user,
                    "reminder.digest",
                    title,
                    body,
                    url="/reminders/",
                    key=f"rem-digest:{user.pk}:{min(ids)}",
                )
                record(
                    actor=None,
                    action="reminders.digest_sent",
                    target=user,
                    data={"occurrences": ids},
                )
            self.lines.extend(line(o, user) for o in occs)

    def _escalate(self) -> None:
        later = Occurrence.objects.filter(
            user_id=OuterRef("user_id"),
            kind=OuterRef("kind"),
            object_key=OuterRef("object_key"),
            due=OuterRef("due"),
            day__gt=OuterRef("day"),
        )
        open_ = (
            Occurrence.objects.exclude(Exists(later))
            .filter(
                acknowledged_at__isnull=True,
                escalated_at__isnull=True,
                escalate_after_days__isnull=False,
                sent_at__isnull=False,
                day__gte=self.day - timedelta(days=366),
            )
            .select_related(
                "user__department__head",
                "user__department__parent__head",
                "contract__department__head",
                "contract__department__parent__head",
            )
        )
        # Only the newest reminder of a deadline escalates (the earlier ones are
        # superseded), and only once the deadline is near: a head is not told that a
        # 90-day notice was not acknowledged, but is when the 30-day one is not.
        newest: dict[tuple[int, str, str, date], Occurrence] = {}
        for occ in open_:
            group = (occ.user_id, occ.kind, occ.object_key, occ.due)
            if group not in newest or (occ.day, occ.pk) > (newest[group].day, newest[group].pk):
                newest[group] = occ
        calendar: WorkCalendar | None = None
        for occ in sorted(newest.values(), key=lambda o: (o.due, o.pk)):
            if (occ.due - self.day).days > ESCALATE_WITHIN_DAYS:
                continue
            if calendar is None:
                calendar = WorkCalendar()
            limit = calendar.add_working_days(occ.day, occ.escalate_after_days or 0)
            if limit > self.day:
                continue
            head = _head_for(occ)
            if self.dry_run:
                if head is not None:
                    self.lines.append(f"{self.day} {head.get_username()} escalation {occ.title}")
                continue
            with transaction.atomic():
                claimed = Occurrence.objects.filter(pk=occ.pk, escalated_at__isnull=True).update(
                    escalated_at=timezone.now(), escalated_to=head
                )
                if not claimed:
                    continue
                if head is not None:
                    with in_language(head):
                        title = str(
                            _("Not acknowledged by %(user)s: %(title)s")
                            % {"user": str(occ.user), "title": occ.title}
                        )
                    notify(
                        head,
                        "reminder.escalation",
                        title,
                        url=occ.url,
                        contract=occ.contract_id,
                        key=f"rem-esc:{occ.pk}",
                    )
                record(
                    actor=None,
                    action="reminders.escalated",
                    target=occ,
                    data={"to": head.get_username() if head else None},
                )
            if head is not None:
                self.lines.append(f"{self.day} {head.get_username()} escalation {occ.title}")


# A reminder's e-mail is queued after its transaction commits; a process killed in
# between loses the job but not the notification. Runs re-queue such e-mails once they
# are this old (the job sends each at most once: ``emailed_at``).
LOST_EMAIL_AFTER = timedelta(minutes=10)
LOST_EMAIL_WITHIN = timedelta(days=2)


def requeue_lost_emails() -> int:
    from qiyue.notifications.models import Notification
    from qiyue.notifications.tasks import send_notification_email

    now = timezone.now()
    # A reminder's notification has the key "rem:<occurrence id>"; digests and
    # escalations ("rem-…") are always e-mailed.
    wanted = (
        Occurrence.objects.filter(
            created_at__gte=now - LOST_EMAIL_WITHIN, sent_at__isnull=False, digest=False
        )
        .exclude(rule__by_email=False)
        .annotate(note_key=Concat(Value("rem:"), Cast("pk", CharField())))
        .filter(note_key=OuterRef("key"))
    )
    lost = Notification.objects.filter(
        Q(key__startswith="rem-") | (Q(key__startswith="rem:") & Exists(wanted)),
        emailed_at__isnull=True,
        created_at__lt=now - LOST_EMAIL_AFTER,
        created_at__gte=now - LOST_EMAIL_WITHIN,
        recipient__email__gt="",
    )
    ids = list(lost.values_list("pk", flat=True))
    for pk in ids:
        send_notification_email(pk)
    return len(ids)


def _queue_webhook(delivery_id: int) -> Any:
    def queue() -> None:
        from qiyue.reminders.tasks import deliver_webhook

        deliver_webhook(delivery_id)

    return queue


def _deliver(
    run: Run, p: Plan, user: User, digest: bool, endpoints: list[WebhookEndpoint]
) -> Occurrence | None:
    """Send one reminder (a seam for tests that inject a crash mid-run)."""
    return run.create(p, user, digest, endpoints)


def run(day: date | None = None, *, dry_run: bool = False) -> list[str]:
    """Send the reminders due on ``day`` (default: today in the company time zone) that
    were not sent yet; one line per reminder sent (or, with ``dry_run``, to be sent)."""
    return Run(day or today(), dry_run=dry_run).execute()
