"""Reads are audited; the audit pages show events to those who may see them and 404 to
everyone else; the CSV export cannot smuggle formulas into a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qiyue.accounts import actions as account_actions
from qiyue.audit.actions import record
from qiyue.audit.models import AuditEvent
from qiyue.lib.csvsafe import FORMULA_STARTS
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

FORMULA = "=cmd|' /C calc'!A0"


def rows_of(response: Any) -> int:
    return response.content.decode().count('data-testid="audit-row"')


def test_viewing_a_contract_writes_contract_viewed(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1)
    response = login(org.sales1).get(reverse("web:contract_detail", args=[contract.pk]))
    assert response.status_code == 200
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "contract.viewed",
        org.sales1,
        "contract",
        str(contract.pk),
    )


def test_an_outsider_who_gets_404_leaves_no_read_event(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1)
    response = login(org.sales2).get(reverse("web:contract_detail", args=[contract.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="contract.viewed").exists()


def test_reads_stay_out_of_the_history_box_on_the_detail_page(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1)
    client = login(org.sales1)
    url = reverse("web:contract_detail", args=[contract.pk])
    client.get(url)
    response = client.get(url)
    assert len(response.context["history"]) == 1  # "created"; the two reads are not there
    assert reverse("web:contract_audit", args=[contract.pk]) in response.content.decode()


def test_owner_sees_the_audit_page_of_their_contract_with_reads(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    client = login(org.sales1)
    client.get(reverse("web:contract_detail", args=[contract.pk]))
    response = client.get(reverse("web:contract_audit", args=[contract.pk]))
    assert response.status_code == 200
    actions = [e.action for e in response.context["page"].object_list]
    assert actions == ["contract.viewed", "contract.submit", "contract.created"]
    assert rows_of(response) == 3


@pytest.mark.parametrize("persona", ["head1", "manager", "admin"])
def test_those_who_may_view_the_contract_see_its_audit_page(
    org: Any, login: Any, persona: str
) -> None:
    contract = make_contract(org.sales1)
    response = login(getattr(org, persona)).get(reverse("web:contract_audit", args=[contract.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["sales2", "colleague"])
def test_outsider_gets_404_for_the_audit_page_of_a_contract_they_cannot_see(
    org: Any, login: Any, persona: str
) -> None:
    contract = make_contract(org.sales1)
    response = login(getattr(org, persona)).get(reverse("web:contract_audit", args=[contract.pk]))
    assert response.status_code == 404


def test_audit_page_of_a_contract_is_paginated(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1)
    client = login(org.sales1)
    for _ in range(12):
        client.get(reverse("web:contract_detail", args=[contract.pk]))
    url = reverse("web:contract_audit", args=[contract.pk])
    response = client.get(url, {"page_size": 10})
    assert rows_of(response) == 10
    assert rows_of(client.get(url, {"page_size": 10, "page": 2})) == 3


@pytest.mark.parametrize("persona", ["sales1", "manager", "legal", "viewer"])
@pytest.mark.parametrize("name", ["web:audit_log", "web:audit_export"])
def test_non_admins_get_404_for_the_global_audit_log(
    org: Any, login: Any, persona: str, name: str
) -> None:
    assert login(getattr(org, persona)).get(reverse(name)).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client: Any) -> None:
    response = client.get(reverse("web:audit_log"))
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_admin_sees_the_audit_log_linked_from_the_navigation(org: Any, login: Any) -> None:
    response = login(org.admin).get(reverse("web:audit_log"))
    assert response.status_code == 200
    assert 'data-testid="nav-audit"' in response.content.decode()
    assert rows_of(response) == min(25, AuditEvent.objects.count())
    home = login(org.sales1).get(reverse("web:home")).content.decode()
    assert 'data-testid="nav-audit"' not in home


def _filtered(org: Any, login: Any, **params: str) -> list[AuditEvent]:
    response = login(org.admin).get(reverse("web:audit_log"), {**params, "page_size": 100})
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def test_admin_filters_the_audit_log(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1, state="in_review")
    login(org.head1).get(reverse("web:contract_detail", args=[contract.pk]))
    by_head = _filtered(org, login, actor="head1")
    assert [e.action for e in by_head] == ["contract.viewed"]
    submits = _filtered(org, login, action="contract.sub")
    assert [(e.action, e.actor_name) for e in submits] == [("contract.submit", "sales1")]
    users = _filtered(org, login, target_type="user")
    assert users
    assert {e.target_type for e in users} == {"user"}
    today = timezone.localdate().isoformat()  # the user's day, not UTC's
    assert len(_filtered(org, login, date_from=today, date_to=today)) == min(
        100, AuditEvent.objects.count()
    )
    assert _filtered(org, login, date_from="2999-01-01") == []
    assert _filtered(org, login, date_to="2000-01-01") == []


def test_a_bad_date_filter_is_explained_and_shows_nothing(org: Any, login: Any) -> None:
    response = login(org.admin).get(reverse("web:audit_log"), {"date_from": "tomorrow"})
    assert response.status_code == 200
    assert response.context["filter_errors"]
    assert rows_of(response) == 0
    export = login(org.admin).get(reverse("web:audit_export"), {"date_from": "tomorrow"})
    assert export.status_code == 400


def test_the_audit_log_page_query_count_does_not_grow_with_page_size(
    org: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    make_contract(org.sales1, state="approved")
    client = login(org.admin)
    url = reverse("web:audit_log")
    client.get(url)
    with django_assert_max_num_queries(9):  # +1: the header's approval task count
        client.get(url, {"page_size": 100})


def _export(org: Any, login: Any, **params: str) -> list[list[str]]:
    response = login(org.admin).get(reverse("web:audit_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_neutralises_formulas_in_names_and_titles(org: Any, login: Any) -> None:
    attacker = account_actions.create_user(actor=org.admin, username=FORMULA, password="pw")
    make_contract(org.sales1, title=FORMULA)
    with transaction.atomic():
        record(actor=attacker, action="user.seen", target=org.sales1, data={"note": FORMULA})
    rows = _export(org, login)
    header, body = rows[0], rows[1:]
    assert len(header) == 8
    assert len(body) == AuditEvent.objects.count()  # up to and with the export's own event
    assert body[0][3] == "audit.exported"
    assert ["'" + FORMULA, "user.seen"] in [row[2:4] for row in body]
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    assert any(FORMULA in cell for row in body for cell in row)


def test_csv_export_is_filtered_and_recorded_as_a_read(org: Any, login: Any) -> None:
    contract = make_contract(org.sales1)
    rows = _export(org, login, action="contract.", target_type="contract")
    assert [row[3] for row in rows[1:]] == ["contract.created"]
    assert rows[1][5] == str(contract.pk)
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert (event.action, event.actor, event.data) == (
        "audit.exported",
        org.admin,
        {"filters": {"action": "contract.", "target_type": "contract"}, "format": "csv"},
    )
