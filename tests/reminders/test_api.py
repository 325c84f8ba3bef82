"""``GET /api/v1/reminders``: the caller's own reminders, paginated; others' are 404."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from qiyue.accounts import actions as account_actions
from qiyue.reminders import scheduler
from qiyue.reminders.models import Occurrence, ReminderRule
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/reminders"


@pytest.fixture
def api() -> Any:
    def _api(user: Any) -> ApiClient:
        _token, raw = account_actions.create_api_token(actor=user, user=user, name="test")
        return ApiClient(raw)

    return _api


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def sent(org: Any, rule: ReminderRule, active: Any) -> list[Any]:
    contracts = [active(today() + timedelta(days=n)) for n in (7, 30, 60)]
    scheduler.run(today())
    return contracts


def test_owner_lists_own_reminders_page_by_page(api: Any, org: Any, sent: Any) -> None:
    c = api(org.sales1)
    first = c.get(URL, {"page_size": 2}).json()
    assert len(first["items"]) == 2 and first["next"]
    second = c.get(first["next"]).json()
    assert len(second["items"]) == 1 and second["next"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    item = first["items"][0]
    assert item["kind"] == "contract.expiry" and item["sent"] and not item["acknowledged"]
    assert {i["contract_id"] for i in first["items"] + second["items"]} == {s.pk for s in sent}


def test_colleague_and_outsider_see_none_of_them(api: Any, org: Any, sent: Any) -> None:
    for user in (org.colleague, org.sales2):
        assert api(user).get(URL).json()["items"] == []


def test_acknowledge_own_and_404_for_others(api: Any, org: Any, sent: Any) -> None:
    occ = Occurrence.objects.filter(user=org.sales1).first()
    assert occ is not None
    assert api(org.sales2).post(f"{URL}/{occ.pk}/acknowledge").status_code == 404
    assert api(org.sales1).post(f"{URL}/{occ.pk}/acknowledge").json() == {"acknowledged": 1}
    open_ = api(org.sales1).get(URL, {"open": "true"}).json()["items"]
    assert occ.pk not in [i["id"] for i in open_] and len(open_) == 2


def test_upcoming_deadlines(api: Any, org: Any, sent: Any) -> None:
    items = api(org.sales1).get(f"{URL}/upcoming", {"days": 40}).json()["items"]
    assert [i["due"] for i in items] == [(today() + timedelta(days=n)).isoformat() for n in (7, 30)]
    assert api(org.sales2).get(f"{URL}/upcoming").json()["items"] == []
    assert api(org.sales1).get(f"{URL}/upcoming", {"days": 1000}).status_code in (400, 422)


def test_bad_cursor_and_page_size_are_400(api: Any, org: Any) -> None:
    c = api(org.sales1)
    assert c.get(URL, {"cursor": "nonsense!"}).status_code == 400
    assert c.get(URL, {"page_size": 100000}).status_code == 400


def test_anonymous_is_401(client: Any) -> None:
    assert client.get(URL).status_code == 401
