"""A user's deadlines as an iCalendar (RFC 5545) feed: one all-day event per deadline,
read by Outlook, Apple Calendar, Google Calendar or 钉钉/飞书 through a secret URL."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from qiyue.accounts.models import User
from qiyue.notifications.actions import in_language
from qiyue.reminders.models import kind_label
from qiyue.reminders.queries import deadlines_of
from qiyue.reminders.scheduler import today

PAST_DAYS = 90
AHEAD_DAYS = 730


def calendar_for(user: User) -> bytes:
    """The feed of ``user``: every deadline they own from three months ago to two years
    ahead, in their language."""
    start = today()
    cal = Calendar()
    cal.add("prodid", "-//Qiyue//Contract deadlines//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "契约 Qiyue")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = timezone.now()
    with in_language(user):
        for d in deadlines_of(
            user, start - timedelta(days=PAST_DAYS), start + timedelta(AHEAD_DAYS)
        ):
            event = Event()
            event.add("uid", f"{d.kind}-{d.object_key}-{d.due.isoformat()}@qiyue".replace(":", "-"))
            event.add("dtstamp", stamp)
            event.add("dtstart", d.due)
            event.add("dtend", d.due + timedelta(days=1))
            event.add("summary", str(d.title))
            event.add("categories", [str(kind_label(d.kind))])
            link = f"{settings.SITE_URL}{d.url}" if d.url.startswith("/") else d.url
            event.add("description", f"{kind_label(d.kind)}\n{link}".strip())
            if link:
                event.add("url", link)
            event.add("transp", "TRANSPARENT")
            cal.add_component(event)
    return cal.to_ical()
