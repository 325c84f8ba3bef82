"""Notifications: idempotent by key, e-mailed once after commit, private to their
recipient, shown in the header's bell."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from qiyue.notifications import actions
from qiyue.notifications.models import Notification


def test_notify_creates_and_emails_after_commit(
    org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    org.sales1.email = "sales1@example.com"
    org.sales1.save()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        note = actions.notify(org.sales1, "test", "合同待审批", "请处理", url="/contracts/")
        assert note is not None
    assert Notification.objects.filter(recipient=org.sales1).count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "合同待审批"
    assert "http://127.0.0.1:8000/contracts/" in mail.outbox[0].body
    note.refresh_from_db()
    assert note.emailed_at is not None
    # sending again does nothing
    assert actions.send_email(note.pk) is False
    assert len(mail.outbox) == 1


def test_rolled_back_notification_sends_nothing(org: Any) -> None:
    org.sales1.email = "sales1@example.com"
    org.sales1.save()
    try:
        with transaction.atomic():
            actions.notify(org.sales1, "test", "x")
            raise RuntimeError
    except RuntimeError:
        pass
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_same_key_notifies_once(org: Any) -> None:
    first = actions.notify(org.sales1, "reminder", "到期提醒", key="r:1:2026-01-01")
    second = actions.notify(org.sales1, "reminder", "到期提醒", key="r:1:2026-01-01")
    assert first is not None and second is None
    assert Notification.objects.count() == 1


def test_title_rendered_in_recipient_language(org: Any) -> None:
    from django.utils.translation import gettext_lazy as _

    org.sales1.language = "en"
    org.sales1.save()
    note = actions.notify(org.sales1, "test", _("Contracts"))
    assert note is not None and note.title == "Contracts"
    org.sales2.language = "zh-hans"
    org.sales2.save()
    note = actions.notify(org.sales2, "test", _("Contracts"))
    assert note is not None and note.title == "合同"


def test_inactive_user_gets_nothing(org: Any) -> None:
    org.sales1.is_active = False
    org.sales1.save()
    assert actions.notify(org.sales1, "test", "x") is None


def test_bell_count_and_page(org: Any, login: Any) -> None:
    actions.notify(org.sales1, "test", "<script>alert(1)</script>", url="/contracts/")
    actions.notify(org.sales2, "test", "not yours")
    client = login(org.sales1)
    home = client.get(reverse("web:home")).content.decode()
    assert 'data-testid="bell-count">1<' in home
    page = client.get(reverse("web:notifications")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "not yours" not in page


def test_mark_read_only_own(org: Any, login: Any) -> None:
    mine = actions.notify(org.sales1, "test", "mine", url="/contracts/")
    other = actions.notify(org.sales2, "test", "other")
    assert mine is not None and other is not None
    client = login(org.sales1)
    # someone else's id changes nothing
    client.post(reverse("web:notification_read"), {"id": other.pk})
    other.refresh_from_db()
    assert other.read_at is None
    response = client.post(reverse("web:notification_read"), {"id": mine.pk, "follow": "1"})
    assert response.status_code == 302 and response["Location"] == "/contracts/"
    mine.refresh_from_db()
    assert mine.read_at is not None


@pytest.mark.parametrize("url", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_follow_never_leaves_the_site(org: Any, login: Any, url: str) -> None:
    note = actions.notify(org.sales1, "test", "x", url=url)
    assert note is not None
    client = login(org.sales1)
    response = client.post(reverse("web:notification_read"), {"id": note.pk, "follow": "1"})
    assert response["Location"] == reverse("web:notifications")


def test_mark_all_read(org: Any, login: Any) -> None:
    for i in range(3):
        actions.notify(org.sales1, "test", f"n{i}")
    client = login(org.sales1)
    client.post(reverse("web:notification_read"))
    assert not Notification.objects.filter(recipient=org.sales1, read_at__isnull=True).exists()


def test_list_query_count_is_pinned(org: Any, login: Any, django_assert_num_queries: Any) -> None:
    client = login(org.sales1)
    for i in range(3):
        actions.notify(org.sales1, "test", f"n{i}")
    client.get(reverse("web:notifications"))
    with django_assert_num_queries(10) as ctx:
        client.get(reverse("web:notifications"))
    for i in range(30):
        actions.notify(org.sales1, "test", f"m{i}")
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get(reverse("web:notifications") + "?page_size=50")


def test_settings_hub_admin_only(org: Any, login: Any) -> None:
    assert login(org.admin).get(reverse("web:settings")).status_code == 200
    assert login(org.sales1).get(reverse("web:settings")).status_code == 404


def test_calendar_refuses_impossible_dates(org: Any) -> None:
    from qiyue.workdays.actions import CalendarError, set_day

    for bad in ("2026-13-40", "tomorrow", ""):
        with pytest.raises(CalendarError):
            set_day(org.admin, bad, "holiday")
    with pytest.raises(CalendarError):
        set_day(org.sales1, "2026-12-31", "holiday")
