"""Compliance pages: the findings panel of a contract (owner, colleague, outsider),
legal's acknowledgement button, the rule editor and the blocklist for administrators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.compliance import actions, queries
from qiyue.compliance.models import BlocklistEntry, Rule
from tests.factories import make_contract

from .conftest import upload_text

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
# Markup in evidence text (an HTML upload is refused, so: bare angle brackets).
EVIDENCE = "若 a<b>c & d"
RULE_LIST_QUERIES = 9


@pytest.fixture
def risky(org: Any, docs: Path) -> Any:
    actions.create_rule(
        actor=org.admin,
        data={
            "name": f"禁用语 {SCRIPT}",
            "kind": "prohibited_term",
            "keywords": "无限连带责任",
            "severity": "high",
        },
    )
    contract = make_contract(org.sales1)
    upload_text(org.sales1, contract, f"甲方承担无限连带责任。{EVIDENCE}")
    actions.check_contract(contract.pk)
    return contract


def panel(client: Any, contract: Any) -> Any:
    return client.get(reverse("web:contract_findings", args=[contract.pk]), HTTP_HX_REQUEST="true")


def test_contract_page_loads_the_panel_lazily(login: Any, org: Any, risky: Any) -> None:
    page = login(org.sales1).get(reverse("web:contract_detail", args=[risky.pk]))
    assert page.status_code == 200
    assert reverse("web:contract_findings", args=[risky.pk]) in page.content.decode()


def test_owner_sees_risk_findings_and_evidence_escaped(login: Any, org: Any, risky: Any) -> None:
    response = panel(login(org.sales1), risky)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-risk="high"' in html
    assert "无限连带责任" in html
    assert SCRIPT not in html and EVIDENCE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the rule's name
    assert "a&lt;b&gt;c &amp; d" in html
    assert 'data-testid="finding-source"' in html
    assert 'data-testid="acknowledge"' not in html  # sales may not acknowledge


@pytest.mark.parametrize("persona", ["colleague", "sales2"])
def test_users_outside_the_contracts_scope_get_404(
    login: Any, org: Any, risky: Any, persona: str
) -> None:
    client = login(getattr(org, persona))
    assert panel(client, risky).status_code == 404
    assert client.get(reverse("web:contract_findings", args=[risky.pk])).status_code == 404
    url = reverse("web:contract_acknowledge", args=[risky.pk])
    assert client.post(url).status_code == 404


def test_head_of_department_sees_the_panel(login: Any, org: Any, risky: Any) -> None:
    assert panel(login(org.head1), risky).status_code == 200


def test_full_page_without_htmx(login: Any, org: Any, risky: Any) -> None:
    response = login(org.legal).get(reverse("web:contract_findings", args=[risky.pk]))
    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_legal_acknowledges_from_the_panel(login: Any, org: Any, risky: Any) -> None:
    client = login(org.legal)
    assert 'data-testid="acknowledge"' in panel(client, risky).content.decode()
    response = client.post(reverse("web:contract_acknowledge", args=[risky.pk]), {"note": "ok"})
    assert response.status_code == 302
    assert queries.approval_blockers(risky) == []
    assert 'data-testid="risk-acknowledged"' in panel(client, risky).content.decode()
    assert AuditEvent.objects.filter(action="compliance.acknowledged").count() == 1


def test_sales_cannot_acknowledge_by_posting(login: Any, org: Any, risky: Any) -> None:
    response = login(org.sales1).post(reverse("web:contract_acknowledge", args=[risky.pk]))
    assert response.status_code == 302
    assert queries.approval_blockers(risky)


def test_unchecked_contract_says_so(login: Any, org: Any, docs: Path) -> None:
    contract = make_contract(org.sales1)
    html = panel(login(org.sales1), contract).content.decode()
    assert 'data-testid="compliance-unchecked"' in html


# -- administrators' pages ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["sales1", "legal", "manager"])
def test_rule_pages_are_404_for_non_admins(login: Any, org: Any, persona: str) -> None:
    rule = actions.create_rule(
        actor=org.admin, data={"name": "r", "kind": "currency", "allowed_currencies": ["CNY"]}
    )
    client = login(getattr(org, persona))
    for url in (
        reverse("web:compliance_rules"),
        reverse("web:compliance_rule_create"),
        reverse("web:compliance_rule_edit", args=[rule.pk]),
        reverse("web:compliance_blocklist"),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("web:compliance_rule_toggle", args=[rule.pk])).status_code == 404


def test_rule_list_escapes_names_and_pins_queries(
    login: Any, org: Any, django_assert_num_queries: Any
) -> None:
    for n in range(3):
        actions.create_rule(
            actor=org.admin,
            data={"name": f"{SCRIPT} {n}", "kind": "currency", "allowed_currencies": ["CNY"]},
        )
    client = login(org.admin)
    with django_assert_num_queries(RULE_LIST_QUERIES):
        response = client.get(reverse("web:compliance_rules"))
    html = response.content.decode()
    assert SCRIPT not in html and "&lt;script&gt;" in html
    for n in range(3, 8):
        actions.create_rule(
            actor=org.admin,
            data={"name": f"r{n}", "kind": "currency", "allowed_currencies": ["CNY"]},
        )
    with django_assert_num_queries(RULE_LIST_QUERIES):
        client.get(reverse("web:compliance_rules"))


def test_admin_creates_a_rule_in_the_editor(login: Any, org: Any) -> None:
    response = login(org.admin).post(
        reverse("web:compliance_rule_create"),
        {
            "name": "违约责任条款",
            "kind": "required_clause",
            "severity": "high",
            "enabled": "on",
            "keywords": "违约责任\n违约金",
            "extracted_field": "",
        },
    )
    assert response.status_code == 302
    rule = Rule.objects.get()
    assert rule.keyword_list == ["违约责任", "违约金"] and rule.severity == "high"


def test_bad_regex_in_the_editor_is_refused_with_a_clear_error(login: Any, org: Any) -> None:
    client = login(org.admin)
    with translation.override("en"):
        response = client.post(
            reverse("web:compliance_rule_create"),
            {"name": "x", "kind": "prohibited_term", "severity": "high", "pattern": "(a+)+$"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert 'data-testid="error-pattern"' in response.content.decode()
    assert not Rule.objects.exists()


def test_editing_and_disabling_a_rule(login: Any, org: Any) -> None:
    rule = actions.create_rule(
        actor=org.admin, data={"name": "r", "kind": "currency", "allowed_currencies": ["CNY"]}
    )
    client = login(org.admin)
    page = client.get(reverse("web:compliance_rule_edit", args=[rule.pk]))
    assert page.status_code == 200
    response = client.post(
        reverse("web:compliance_rule_edit", args=[rule.pk]),
        {
            "name": "币种",
            "kind": "currency",
            "severity": "low",
            "enabled": "on",
            "allowed_currencies": ["CNY", "USD"],
            "version": rule.version,
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.allowed_currencies, rule.version) == ("币种", ["CNY", "USD"], 2)
    stale = client.post(
        reverse("web:compliance_rule_edit", args=[rule.pk]),
        {
            "name": "旧",
            "kind": "currency",
            "severity": "low",
            "allowed_currencies": ["CNY"],
            "version": 1,
        },
    )
    assert stale.status_code == 409
    client.post(reverse("web:compliance_rule_toggle", args=[rule.pk]), {"version": rule.version})
    rule.refresh_from_db()
    assert rule.enabled is False and rule.name == "币种"


def test_blocklist_page_adds_and_removes(login: Any, org: Any) -> None:
    client = login(org.admin)
    response = client.post(
        reverse("web:compliance_blocklist"), {"name": SCRIPT, "credit_code": "", "reason": SCRIPT}
    )
    assert response.status_code == 302
    html = client.get(reverse("web:compliance_blocklist")).content.decode()
    assert SCRIPT not in html and "&lt;script&gt;" in html
    bad = client.post(reverse("web:compliance_blocklist"), {"credit_code": "123"})
    assert bad.status_code == 400
    assert BlocklistEntry.objects.count() == 1
    entry = BlocklistEntry.objects.get()
    client.post(reverse("web:compliance_blocklist_remove", args=[entry.pk]))
    assert not BlocklistEntry.objects.exists()


def test_settings_hub_links_the_rules(login: Any, org: Any) -> None:
    html = login(org.admin).get(reverse("web:settings")).content.decode()
    assert reverse("web:compliance_rules") in html


def test_deleting_a_rule_removes_its_findings_and_is_audited(
    login: Any, org: Any, risky: Any
) -> None:
    rule = Rule.objects.get()
    assert risky.findings.exists()
    assert (
        login(org.sales1).post(reverse("web:compliance_rule_delete", args=[rule.pk])).status_code
        == 404
    )
    response = login(org.admin).post(reverse("web:compliance_rule_delete", args=[rule.pk]))
    assert response.status_code == 302
    assert not Rule.objects.exists() and not risky.findings.exists()
    assert AuditEvent.objects.filter(action="compliance.rule_deleted").count() == 1


def test_owner_and_legal_start_a_recheck_others_get_404(
    login: Any, org: Any, docs: Path, committed: Any, currency_rule: Rule
) -> None:
    contract = make_contract(org.sales1, currency="EUR")
    url = reverse("web:contract_recheck", args=[contract.pk])
    with committed():
        for persona in ("sales2", "head1"):  # an outsider; a head who may only view
            assert login(getattr(org, persona)).post(url).status_code == 404
    assert queries.risk_level(contract) is None
    for persona in ("sales1", "legal"):
        with committed():
            response = login(getattr(org, persona)).post(url)
        assert response.status_code == 302
    assert queries.risk_level(contract) == "high"


def test_panel_query_count_does_not_grow_with_findings(
    login: Any, org: Any, docs: Path, django_assert_max_num_queries: Any
) -> None:
    actions.create_rule(
        actor=org.admin,
        data={"name": "禁用语", "kind": "prohibited_term", "keywords": "甲\n乙\n丙"},
    )
    few, many = make_contract(org.sales1), make_contract(org.sales1)
    upload_text(org.sales1, few, "甲")
    upload_text(org.sales1, many, "甲乙丙 甲乙丙 甲乙丙")
    for c in (few, many):
        actions.check_contract(c.pk)
    assert many.findings.count() == 9
    client = login(org.sales1)
    panel(client, few)  # session warm-up
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        panel(client, few)
    with django_assert_max_num_queries(len(one)):
        panel(client, many)


def test_rule_editor_shows_the_stored_values(login: Any, org: Any) -> None:
    sales = org.types["XS"]
    rule = actions.create_rule(
        actor=org.admin,
        data={
            "name": "大额",
            "kind": "amount_limit",
            "contract_type": sales.pk,
            "amount_limit": "1000000",
            "approver_role": "finance",
            "max_days": 90,
        },
    )
    form = login(org.admin).get(reverse("web:compliance_rule_edit", args=[rule.pk])).context["form"]
    assert str(form["contract_type"].value()) == str(sales.pk)
    assert str(form["amount_limit"].value()) == "1000000.00"
    assert form["approver_role"].value() == "finance"
    assert str(form["max_days"].value()) == "90"
    assert str(form["version"].value()) == "1"
    html = form.as_p()
    assert f'<option value="{sales.pk}" selected>' in html
    assert 'value="1000000.00"' in html and 'value="90"' in html
