"""Pages of reminders: my reminders, the calendar feed, one-off reminders on a contract,
the rule editor and webhook endpoints — as the owner, a colleague and an outsider."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from qiyue.reminders import actions, queries, scheduler
from qiyue.reminders.models import Occurrence, OneOffReminder, ReminderRule, WebhookEndpoint

pytestmark = pytest.mark.django_db

MY = reverse("web:my_reminders")


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def sent(org: Any, rule: ReminderRule, active: Any) -> list[Any]:
    """Two contracts of sales1 with a reminder sent today."""
    contracts = [active(today() + timedelta(days=7)), active(today() + timedelta(days=30))]
    scheduler.run(today())
    return contracts


def test_owner_sees_upcoming_deadlines_and_reminders(login: Any, org: Any, sent: Any) -> None:
    page = login(org.sales1).get(MY).content.decode()
    assert sent[0].number in page and sent[1].number in page
    assert page.count('data-testid="acknowledge"') == 2


def test_colleague_sees_none_of_the_owners_reminders(login: Any, org: Any, sent: Any) -> None:
    page = login(org.colleague).get(MY).content.decode()
    assert sent[0].number not in page
    assert 'data-testid="no-occurrences"' in page


def test_my_reminders_query_count_does_not_grow_with_page_size(
    login: Any, org: Any, rule: ReminderRule, active: Any, django_assert_num_queries: Any
) -> None:
    for n in range(12):
        active(today() + timedelta(days=100 + n))
    for n in range(12):
        scheduler.run(today() + timedelta(days=10 + n))
    assert Occurrence.objects.filter(user=org.sales1).count() >= 12
    c = login(org.sales1)
    c.get(MY)
    with django_assert_num_queries(QUERIES) as small:
        c.get(MY, {"page_size": 10})
    with django_assert_num_queries(QUERIES) as large:
        c.get(MY, {"page_size": 50})
    assert len(small.captured_queries) == len(large.captured_queries)


# Session, user, header (role, department, headed departments, tasks, unread), the
# settings, each deadline source's queries, count, page rows, session save: the same
# whatever the page size.
QUERIES = 18


def test_my_reminders_page_with_the_feed_url_is_not_cached(login: Any, org: Any) -> None:
    token = actions.new_calendar_token(actor=org.sales1)
    r = login(org.sales1).get(MY)
    assert token in r.content.decode()
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]


def test_acknowledge_own_reminder(login: Any, org: Any, sent: Any) -> None:
    occ = Occurrence.objects.filter(user=org.sales1).first()
    assert occ is not None
    r = login(org.sales1).post(reverse("web:reminder_ack", args=[occ.pk]))
    assert r.status_code == 302
    occ.refresh_from_db()
    assert occ.acknowledged_at is not None


def test_acknowledging_another_users_reminder_is_404(login: Any, org: Any, sent: Any) -> None:
    occ = Occurrence.objects.filter(user=org.sales1).first()
    assert occ is not None
    for user in (org.colleague, org.sales2, org.head1):
        r = login(user).post(reverse("web:reminder_ack", args=[occ.pk]))
        assert r.status_code == 404
    occ.refresh_from_db()
    assert occ.acknowledged_at is None


def test_digest_setting_is_saved(login: Any, org: Any) -> None:
    c = login(org.sales1)
    c.post(reverse("web:reminder_settings"), {"daily_digest": "1"})
    assert queries.settings_for(org.sales1).daily_digest
    c.post(reverse("web:reminder_settings"), {})
    assert not queries.settings_for(org.sales1).daily_digest


def test_calendar_feed_lists_every_deadline_the_user_owns(
    login: Any, org: Any, rule: ReminderRule, active: Any, client: Any
) -> None:
    mine = active(
        today() + timedelta(days=200),
        auto_renew=True,
        notice_period_days=60,
        title="年度维保; 第二期, \\ 续约",
    )
    active(today() + timedelta(days=100))
    actions.add_one_off(
        actor=org.sales1, contract=mine, day=today() + timedelta(days=3), text="打电话确认价格"
    )
    c = login(org.sales1)
    c.post(reverse("web:calendar_token"), {"action": "new"})
    token = queries.settings_for(org.sales1).calendar_token
    assert token
    r = client.get(reverse("web:calendar_feed", args=[token]))  # no login needed
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    events = {(str(e["summary"]), e.decoded("dtstart")) for e in cal.walk("VEVENT")}
    titles = {s for s, _d in events}
    assert ("打电话确认价格", today() + timedelta(days=3)) in events
    assert any("年度维保; 第二期, \\ 续约" in s for s in titles)
    days = {d for _s, d in events}
    assert today() + timedelta(days=200) in days  # expiry
    assert today() + timedelta(days=140) in days  # cancel-by
    assert today() + timedelta(days=100) in days
    uids = [str(e["uid"]) for e in cal.walk("VEVENT")]
    assert len(uids) == len(set(uids))


def test_calendar_feed_of_another_owner_does_not_include_my_deadlines(
    login: Any, org: Any, active: Any, client: Any
) -> None:
    active(today() + timedelta(days=50), title="只属于张伟")
    token = actions.new_calendar_token(actor=org.colleague)
    body = client.get(reverse("web:calendar_feed", args=[token])).content.decode()
    assert "只属于张伟" not in body


def test_revoked_or_unknown_calendar_token_is_404(login: Any, org: Any, client: Any) -> None:
    old = actions.new_calendar_token(actor=org.sales1)
    new = actions.new_calendar_token(actor=org.sales1)
    assert client.get(reverse("web:calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("web:calendar_feed", args=[new])).status_code == 200
    login(org.sales1).post(reverse("web:calendar_token"), {"action": "revoke"})
    assert client.get(reverse("web:calendar_feed", args=[new])).status_code == 404
    assert client.get(reverse("web:calendar_feed", args=["x" * 43])).status_code == 404


def test_owner_sets_a_one_off_reminder_on_the_contract_page(
    login: Any, org: Any, active: Any
) -> None:
    contract = active(today() + timedelta(days=300))
    c = login(org.sales1)
    detail = c.get(reverse("web:contract_detail", args=[contract.pk])).content.decode()
    assert 'data-testid="contract-reminders"' in detail
    url = reverse("web:contract_reminders", args=[contract.pk])
    day = (today() + timedelta(days=5)).isoformat()
    r = c.post(url, {"day": day, "text": "<script>alert(1)</script>"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert OneOffReminder.objects.get().user == org.sales1


def test_one_off_reminder_bad_input_changes_nothing(login: Any, org: Any, active: Any) -> None:
    contract = active(today() + timedelta(days=300))
    c = login(org.sales1)
    url = reverse("web:contract_reminders", args=[contract.pk])
    with translation.override("en"):
        for data in (
            {"day": "2020-01-01", "text": "past"},
            {"day": "2027-02-30", "text": "no such day"},
            {"day": "", "text": "x"},
            {"day": (today() + timedelta(days=1)).isoformat(), "text": ""},
            {"day": (today() + timedelta(days=1)).isoformat(), "text": "x" * 201},
        ):
            r = c.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
            assert r.status_code == 400
            assert 'data-testid="form-errors"' in r.content.decode()
    assert not OneOffReminder.objects.exists()


def test_outsider_gets_404_for_one_off_reminders_of_a_contract_they_cannot_see(
    login: Any, org: Any, active: Any
) -> None:
    contract = active(today() + timedelta(days=300))
    url = reverse("web:contract_reminders", args=[contract.pk])
    c = login(org.sales2)
    assert c.get(url).status_code == 404
    day = (today() + timedelta(days=5)).isoformat()
    assert c.post(url, {"day": day, "text": "x"}).status_code == 404
    assert not OneOffReminder.objects.exists()


def test_only_the_author_may_remove_a_one_off_reminder(login: Any, org: Any, active: Any) -> None:
    contract = active(today() + timedelta(days=300))
    r = actions.add_one_off(
        actor=org.sales1, contract=contract, day=today() + timedelta(days=2), text="x"
    )
    url = reverse("web:one_off_delete", args=[r.pk])
    assert login(org.head1).post(url).status_code == 404
    assert login(org.sales1).post(url).status_code == 302
    assert not OneOffReminder.objects.exists()


def test_admin_edits_rules_and_others_get_404(login: Any, org: Any) -> None:
    url = reverse("web:reminder_rule_new")
    for user in (org.sales1, org.manager):
        assert login(user).get(reverse("web:reminder_rules")).status_code == 404
        assert login(user).post(url, {"name": "x"}).status_code == 404
    c = login(org.admin)
    assert 'data-testid="settings-reminders"' in c.get(reverse("web:settings")).content.decode()
    r = c.post(
        url,
        {
            "name": "服务合同",
            "contract_type": org.types["FW"].pk,
            "kinds": ["contract.expiry"],
            "offsets": "60，30",
            "on_the_day": "on",
            "escalate_after_days": "3",
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    rule = ReminderRule.objects.get()
    assert rule.offsets == [60, 30] and rule.contract_type == org.types["FW"]
    page = c.get(reverse("web:reminder_rules")).content.decode()
    assert "服务合同" in page
    edit = reverse("web:reminder_rule_edit", args=[rule.pk])
    data = {"name": "改名", "kinds": ["contract.expiry"], "offsets": "7", "version": 1}
    assert c.post(edit, data).status_code == 302
    assert c.post(edit, data).status_code == 409  # the version moved on: a stale edit
    rule.refresh_from_db()
    assert rule.name == "改名" and rule.version == 2


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "kinds": ["contract.expiry"], "offsets": "30"},
        {"name": "x", "kinds": [], "offsets": "30"},
        {"name": "x", "kinds": ["contract.nope"], "offsets": "30"},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": "thirty"},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": "0"},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": "400"},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": ""},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": "7", "escalate_after_days": "-1"},
        {"name": "x", "kinds": ["contract.expiry"], "offsets": "7", "contract_type": "999999"},
    ],
)
def test_bad_rule_is_refused_with_a_message(login: Any, org: Any, data: dict[str, Any]) -> None:
    with translation.override("en"):
        r = login(org.admin).post(reverse("web:reminder_rule_new"), data)
    assert r.status_code == 400
    assert 'data-testid="form-errors"' in r.content.decode()
    assert not ReminderRule.objects.exists()


def test_admin_manages_webhook_endpoints(login: Any, org: Any) -> None:
    url = reverse("web:reminder_webhooks")
    assert login(org.sales1).get(url).status_code == 404
    c = login(org.admin)
    assert c.post(url, {"name": "ERP", "url": "javascript:alert(1)"}).status_code == 400
    assert c.post(url, {"name": "ERP", "url": "https://erp.example.com/hook"}).status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    change = reverse("web:reminder_webhook_change", args=[endpoint.pk])
    c.post(change, {"action": "disable"})
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    c.post(change, {"action": "delete"})
    assert not WebhookEndpoint.objects.exists()


def test_contract_panel_loads_as_a_fragment(login: Any, org: Any, active: Any) -> None:
    contract = active(today() + timedelta(days=300))
    url = reverse("web:contract_reminders", args=[contract.pk])
    c = login(org.sales1)
    fragment = c.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'data-testid="one-off-form"' in fragment
    page = c.get(url).content.decode()
    assert "<html" in page
    day = (today() + timedelta(days=5)).isoformat()
    r = c.post(url, {"day": day, "text": "续约谈判"})
    assert r.status_code == 302 and r["Location"] == reverse(
        "web:contract_detail", args=[contract.pk]
    )
