"""The money panel of a contract, its forms, the lifecycle buttons and the receivables
pages, for the owner, finance, a colleague and an outsider."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from qiyue.contracts.models import Amendment, ContractState
from qiyue.obligations import actions
from qiyue.obligations.models import Instalment, Invoice, Payment
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _active(org: Any) -> Any:
    return make_contract(org.sales1, state="active", amount="100000", tax_rate="13")


def test_contract_page_loads_the_panel_lazily(org: Any, login: Any) -> None:
    c = _active(org)
    page = login(org.sales1).get(reverse("web:contract_detail", args=[c.pk]))
    assert reverse("web:contract_money", args=[c.pk]) in page.content.decode()


def test_owner_sees_panel_and_outsider_gets_404(org: Any, login: Any) -> None:
    c = _active(org)
    url = reverse("web:contract_money", args=[c.pk])
    panel = login(org.sales1).get(url, **HX)
    assert panel.status_code == 200
    html = panel.content.decode()
    assert 'data-testid="add-instalment"' in html
    assert 'data-testid="record-payment"' not in html  # only finance records payments
    assert login(org.sales2).get(url).status_code == 404
    assert login(org.sales2).get(url, **HX).status_code == 404
    full = login(org.finance).get(url)
    assert 'data-testid="record-payment"' in full.content.decode()
    assert "<html" in full.content.decode()


def test_owner_plans_and_finance_records_payment_and_invoice(org: Any, login: Any) -> None:
    c = _active(org)
    owner, finance = login(org.sales1), login(org.finance)
    r = owner.post(
        reverse("web:instalment_add", args=[c.pk]),
        {"label": "<script>alert(1)</script>", "percent": "100", "due_date": "2026-01-31"},
    )
    assert r.status_code == 302 and r["Location"].endswith("#money")
    inst = Instalment.objects.get(contract=c)
    finance.post(
        reverse("web:payment_add", args=[c.pk]),
        {"amount": "40000", "received_on": timezone.localdate().isoformat(), "method": "transfer"},
    )
    finance.post(
        reverse("web:invoice_add", args=[c.pk]),
        {
            "number": "12345678",
            "kind": "special",
            "amount": "40000",
            "issued_on": timezone.localdate().isoformat(),
            "instalment": str(inst.pk),
        },
    )
    assert Payment.objects.get(contract=c).amount == 40000
    assert Invoice.objects.get(contract=c).tax > 0
    html = owner.get(reverse("web:contract_money", args=[c.pk]), **HX).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "12345678" in html


def test_bad_input_shows_a_message_and_changes_nothing(org: Any, login: Any) -> None:
    c = _active(org)
    finance = login(org.finance)
    r = finance.post(
        reverse("web:payment_add", args=[c.pk]),
        {"amount": "-5", "received_on": "2026-01-01"},
        follow=True,
    )
    assert not Payment.objects.exists()
    assert any(m.level_tag == "error" for m in r.context["messages"])
    # A salesperson cannot record payments even on their own contract.
    login(org.sales1).post(
        reverse("web:payment_add", args=[c.pk]), {"amount": "5", "received_on": "2026-01-01"}
    )
    assert not Payment.objects.exists()
    # Wrong ids answer 404.
    assert login(org.sales1).post(reverse("web:instalment_remove", args=[999])).status_code == 404
    assert login(org.sales2).post(reverse("web:payment_add", args=[c.pk]), {}).status_code == 404


def test_obligation_done_with_evidence_upload(org: Any, login: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = _active(org)
    ob = actions.add_obligation(
        actor=org.sales1, contract=c, data={"title": "保险凭证", "due_date": "2026-01-01"}
    )
    pdf = SimpleUploadedFile(
        "cert.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )
    login(org.sales1).post(
        reverse("web:obligation_complete", args=[ob.pk]), {"done_on": "", "evidence": pdf}
    )
    ob.refresh_from_db()
    assert ob.state == "done" and ob.evidence is not None


def test_amend_renew_and_terminate_through_the_pages(org: Any, login: Any) -> None:
    c = _active(org)
    owner = login(org.sales1)
    owner.post(
        reverse("web:amendment_add", args=[c.pk]),
        {"title": "补充协议", "new_amount": "120000"},
    )
    a = Amendment.objects.get(contract=c)
    login(org.legal).post(
        reverse("web:amendment_decide", args=[a.pk]), {"decision": "approve", "comment": "ok"}
    )
    c.refresh_from_db()
    assert c.amount == 120000
    r = owner.post(reverse("web:contract_renew", args=[c.pk]), {})
    assert r.status_code == 302 and c.children.get().state == ContractState.DRAFT
    login(org.manager).post(
        reverse("web:contract_terminate", args=[c.pk]),
        {"reason": "协商一致", "effective_date": timezone.localdate().isoformat()},
    )
    c.refresh_from_db()
    assert c.state == ContractState.TERMINATED


def test_amendment_rejected_through_the_page_and_an_unknown_decision_is_404(
    org: Any, login: Any
) -> None:
    c = _active(org)
    login(org.sales1).post(
        reverse("web:amendment_add", args=[c.pk]), {"title": "补充协议", "new_amount": "120000"}
    )
    a = Amendment.objects.get(contract=c)
    legal = login(org.legal)
    url = reverse("web:amendment_decide", args=[a.pk])
    assert legal.post(url, {"decision": "maybe", "comment": "?"}).status_code == 404
    r = legal.post(url, {"decision": "reject", "comment": "金额不对"})
    assert r.status_code == 302 and r["Location"].endswith("#money")
    a.refresh_from_db()
    c.refresh_from_db()
    assert (a.state, a.decision_comment, c.amount) == ("rejected", "金额不对", 100000)


def test_panel_shows_the_notice_of_the_term_and_the_termination(org: Any, login: Any) -> None:
    from qiyue.contracts import flows

    today = timezone.localdate()
    c = make_contract(
        org.sales1,
        state="active",
        effective_date=(today - timedelta(days=30)).isoformat(),
        expiry_date=(today + timedelta(days=200)).isoformat(),
        auto_renew=True,
        renewal_term_months=12,
        notice_period_days=30,
    )
    owner = login(org.sales1)
    url = reverse("web:contract_money", args=[c.pk])
    before = owner.get(url, **HX)
    assert before.context["notice"] is None and before.context["termination"] is None
    assert 'data-testid="non-renewal"' in before.content.decode()
    notice = flows.record_non_renewal(
        actor=org.sales1, contract=c, given_by="customer", given_on=today
    )
    after = owner.get(url, **HX)
    assert after.context["notice"] == notice
    assert 'data-testid="non-renewal"' not in after.content.decode()
    assert 'data-testid="notice-status"' in after.content.decode()
    flows.terminate_contract(actor=org.manager, contract=c, reason="客户破产", effective_date=today)
    ended = owner.get(url, **HX)
    assert ended.context["termination"].reason == "客户破产"
    assert 'data-testid="termination"' in ended.content.decode()
    assert "客户破产" in ended.content.decode()


def test_receivables_page_query_count_does_not_grow(
    org: Any, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(org.finance)
    url = reverse("web:receivables") + "?by=contract"
    due = timezone.localdate() - timedelta(days=3)

    def add(n: int) -> None:
        for _ in range(n):
            c = _active(org)
            actions.add_instalment(
                actor=org.sales1,
                contract=c,
                data={"label": "全款", "percent": "100", "due_date": due},
            )

    add(1)
    client.get(url)  # warm caches (session, user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    add(4)
    with django_assert_max_num_queries(len(one.captured_queries)):
        r = client.get(url)
    assert r.content.decode().count("#money") == 5
    for by in ("customer", "department", "bogus"):
        assert client.get(reverse("web:receivables"), {"by": by}).status_code == 200


def test_dashboard_receivables_block_changes_with_a_payment(org: Any, login: Any) -> None:
    c = _active(org)
    actions.add_instalment(
        actor=org.sales1,
        contract=c,
        data={"label": "全款", "percent": "100", "due_date": timezone.localdate()},
    )
    client = login(org.finance)
    home = client.get(reverse("web:home")).content.decode()
    assert reverse("web:receivables_block") in home
    before = client.get(reverse("web:receivables_block"))
    assert before.context["r"]["outstanding"] == 100000
    actions.record_payment(
        actor=org.finance, contract=c, amount="30000", received_on=timezone.localdate()
    )
    after = client.get(reverse("web:receivables_block"))
    assert after.context["r"]["outstanding"] == 70000
    assert after.context["r"]["received_this_month"] == 30000
    # The outsider's figures do not include the contract.
    assert login(org.sales2).get(reverse("web:receivables_block")).context["r"]["outstanding"] == 0


def test_terminate_form_offers_only_the_open_items(org: Any, login: Any) -> None:
    c = _active(org)
    today = timezone.localdate()
    paid, unpaid = (
        actions.add_instalment(
            actor=org.sales1, contract=c, data={"label": label, "amount": "10", "due_date": today}
        )
        for label in ("paid", "unpaid")
    )
    actions.record_payment(
        actor=org.finance, contract=c, amount="10", received_on=today, instalment=paid
    )
    done, still = (
        actions.add_obligation(
            actor=org.sales1, contract=c, data={"title": title, "due_date": today}
        )
        for title in ("done", "open")
    )
    actions.complete_obligation(actor=org.sales1, obligation=done)
    ctx = login(org.sales1).get(reverse("web:contract_money", args=[c.pk]), **HX).context
    assert [i.pk for i in ctx["open_instalments"]] == [unpaid.pk]
    assert [o.pk for o in ctx["open_obligations"]] == [still.pk]


def test_money_panel_query_count_does_not_grow_with_rows(org: Any, login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = _active(org)
    client = login(org.finance)
    url = reverse("web:contract_money", args=[c.pk])
    today = timezone.localdate()

    def add_rows(n: int) -> None:
        for _ in range(n):
            inst = actions.add_instalment(
                actor=org.sales1,
                contract=c,
                data={"label": "款", "amount": "10", "due_date": today},
            )
            actions.record_payment(actor=org.finance, contract=c, amount="10", received_on=today)
            actions.record_invoice(
                actor=org.finance,
                contract=c,
                amount="10",
                issued_on=today,
                planned=True,
                instalment=inst,
            )
            actions.add_obligation(
                actor=org.sales1, contract=c, data={"title": "交付", "due_date": today}
            )

    add_rows(1)
    client.get(url, **HX)
    with CaptureQueriesContext(connection) as one:
        client.get(url, **HX)
    add_rows(4)
    with CaptureQueriesContext(connection) as five:
        r = client.get(url, **HX)
    assert r.content.decode().count('data-testid="payment-row"') == 5
    assert len(five.captured_queries) == len(one.captured_queries)
    assert len(one.captured_queries) == PANEL_QUERIES


# Pinned: the panel's queries (session and user, the contract, four lists, the
# allocations, reconciliation, lifecycle records and the access checks of its buttons;
# a termination's open items are picked from the lists, not read again; the money forms
# ask the "change" access once and finance's right from the contract already read).
PANEL_QUERIES = 20


def test_without_a_notice_period_the_cancel_by_date_is_the_expiry_everywhere(
    org: Any, login: Any
) -> None:
    from django.utils import formats, translation

    expiry = timezone.localdate() + timedelta(days=200)
    c = make_contract(
        org.sales1,
        state="active",
        expiry_date=expiry.isoformat(),
        auto_renew=True,
        renewal_term_months=12,
    )
    assert c.notice_period_days is None and c.cancel_by == expiry
    owner = login(org.sales1)
    with translation.override("en"):
        shown = formats.date_format(expiry, "DATE_FORMAT")
    panel = owner.get(reverse("web:contract_money", args=[c.pk]), HTTP_ACCEPT_LANGUAGE="en", **HX)
    page = owner.get(reverse("web:contract_detail", args=[c.pk]), HTTP_ACCEPT_LANGUAGE="en")
    # The page, the panel and the reminders (reminders.deadlines) name the same day.
    assert shown in panel.content.decode().split('data-testid="notice-status"')[1][:300]
    assert shown in page.content.decode().split('data-testid="contract-cancel-by"')[1][:200]
