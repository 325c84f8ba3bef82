from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from qiyue.approvals.models import ApprovalTask
from qiyue.contracts.actions import share_contract, update_contract
from qiyue.contracts.models import Contract, ContractType
from tests.factories import make_contract, make_party


def detail(c: Contract) -> str:
    return reverse("web:contract_detail", args=[c.pk])


def edit(c: Contract) -> str:
    return reverse("web:contract_edit", args=[c.pk])


def transition(c: Contract) -> str:
    return reverse("web:contract_transition", args=[c.pk])


LIST = reverse("web:contract_list")
# +1: the header's open approval task count; +1: the page's ids, then its rows
LIST_QUERIES = 17


def form_data(c: Contract, **changes: Any) -> dict[str, Any]:
    data = {
        "title": c.title,
        "contract_type": c.contract_type_id,
        "counterparty": c.counterparty_id,
        "amount": "" if c.amount is None else str(c.amount),
        "currency": c.currency,
        "tax_rate": "",
        "signed_date": "",
        "effective_date": "",
        "expiry_date": "",
        "renewal_term_months": "",
        "notice_period_days": "",
        "payment_terms": "",
        "confidentiality": c.confidentiality,
        "tags": "",
        "relation": "",
        "parent": "",
        "notes": c.notes,
        "version": c.version,
    }
    data.update(changes)
    return data


# --- access matrix -------------------------------------------------------------------


def test_owner_sees_contract_in_list_and_detail_and_may_edit(login: Any, contract: Any) -> None:
    c = login(contract.owner)
    assert contract.number in c.get(LIST).content.decode()
    page = c.get(detail(contract))
    assert page.status_code == 200
    assert b'data-testid="edit-contract"' in page.content
    assert c.get(edit(contract)).status_code == 200


def test_colleague_in_same_department_gets_404_for_contract_detail_of_owner(
    login: Any, org: Any, contract: Any
) -> None:
    c = login(org.colleague)
    assert contract.number not in c.get(LIST).content.decode()
    assert c.get(detail(contract)).status_code == 404
    assert c.get(edit(contract)).status_code == 404
    assert c.post(transition(contract), {"code": "submit"}).status_code == 404


def test_colleague_sees_contract_once_it_is_shared_with_them(
    login: Any, org: Any, contract: Any
) -> None:
    share_contract(actor=org.sales1, contract=contract, user=org.colleague)
    c = login(org.colleague)
    assert contract.number in c.get(LIST).content.decode()
    assert c.get(detail(contract)).status_code == 200
    assert c.get(edit(contract)).status_code == 404


def test_department_head_sees_department_contract_but_may_not_edit(
    login: Any, org: Any, contract: Any
) -> None:
    c = login(org.head1)
    assert contract.number in c.get(LIST).content.decode()
    page = c.get(detail(contract))
    assert page.status_code == 200
    assert b'data-testid="edit-contract"' not in page.content
    assert c.get(edit(contract)).status_code == 404


def test_viewer_sees_department_contract_and_gets_404_on_edit(
    login: Any, org: Any, contract: Any
) -> None:
    c = login(org.viewer)
    assert contract.number in c.get(LIST).content.decode()
    page = c.get(detail(contract))
    assert page.status_code == 200
    assert b'data-testid="transitions"' not in page.content
    assert c.get(edit(contract)).status_code == 404
    assert c.get(reverse("web:contract_create")).status_code == 404


def test_viewer_transition_is_refused_and_changes_nothing(
    login: Any, org: Any, contract: Any
) -> None:
    response = login(org.viewer).post(transition(contract), {"code": "submit"}, follow=True)
    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.state == "draft"
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_outsider_gets_404_for_contract_detail_of_other_department(
    login: Any, org: Any, contract: Any
) -> None:
    c = login(org.sales2)
    assert contract.number not in c.get(LIST).content.decode()
    assert c.get(detail(contract)).status_code == 404
    assert c.get(edit(contract)).status_code == 404
    assert c.post(edit(contract), form_data(contract, title="hacked")).status_code == 404
    assert c.post(transition(contract), {"code": "submit"}).status_code == 404
    contract.refresh_from_db()
    assert contract.title != "hacked"
    assert contract.state == "draft"


def test_outsider_cannot_filter_their_way_to_a_hidden_contract(
    login: Any, org: Any, contract: Any
) -> None:
    response = login(org.sales2).get(LIST, {"customer": contract.counterparty_id})
    assert contract.number not in response.content.decode()


@pytest.mark.parametrize(
    "name", ["web:contract_detail", "web:contract_edit", "web:contract_transition"]
)
def test_anonymous_is_redirected_to_login(client: Any, contract: Any, name: str) -> None:
    response = client.get(reverse(name, args=[contract.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


# --- list ---------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_page_size(
    login: Any, org: Any, django_assert_num_queries: Any
) -> None:
    party = make_party(org.sales1)
    for i in range(55):
        make_contract(org.sales1, party=party, tags="重点,政府" if i % 2 else "")
    c = login(org.sales1)
    # Session, user, role, department, headed departments, the filter choices (types,
    # departments, customers), count, page ids, page rows, tags, and the session save.
    with django_assert_num_queries(LIST_QUERIES):
        small = c.get(LIST, {"page_size": 10})
    with django_assert_num_queries(LIST_QUERIES):
        large = c.get(LIST, {"page_size": 50})
    assert small.content.decode().count('data-testid="contract-row"') == 10
    assert large.content.decode().count('data-testid="contract-row"') == 50


def test_list_filters_by_state_and_owner_me(login: Any, org: Any) -> None:
    draft = make_contract(org.sales1, title="草稿合同")
    active = make_contract(org.sales1, title="生效合同", state="active")
    c = login(org.sales1)
    body = c.get(LIST, {"state": "active", "owner": "me"}).content.decode()
    assert active.number in body
    assert draft.number not in body


def test_list_shows_filter_errors(login: Any, org: Any) -> None:
    response = login(org.sales1).get(LIST, {"state": "nonsense", "expiry_from": "2026-13-45"})
    assert response.status_code == 200
    assert b'data-testid="filter-errors"' in response.content


def test_list_sorts_by_amount(login: Any, org: Any) -> None:
    small = make_contract(org.sales1, amount="10.00")
    big = make_contract(org.sales1, amount="9000000.00")
    body = login(org.sales1).get(LIST, {"sort": "-amount"}).content.decode()
    assert body.index(big.number) < body.index(small.number)
    body = login(org.sales1).get(LIST, {"sort": "amount"}).content.decode()
    assert body.index(small.number) < body.index(big.number)


def test_amounts_are_formatted_with_currency(login: Any, contract: Any) -> None:
    body = login(contract.owner).get(detail(contract)).content.decode()
    assert "¥1,200,000.00" in body


def test_page_size_is_capped(login: Any, org: Any) -> None:
    response = login(org.sales1).get(LIST, {"page_size": 100000})
    assert response.context["page"].paginator.per_page == 100


# --- escaping -----------------------------------------------------------------------


def test_script_in_title_is_rendered_escaped(login: Any, org: Any) -> None:
    evil = make_contract(org.sales1, title="<script>alert(1)</script>")
    c = login(org.sales1)
    for url in (detail(evil), LIST, reverse("web:home")):
        body = c.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get(detail(evil)).content.decode()


# --- create and edit ----------------------------------------------------------------


def test_create_contract_for_preselected_customer(login: Any, org: Any, party: Any) -> None:
    c = login(org.sales1)
    page = c.get(reverse("web:contract_create"), {"customer": party.pk})
    assert f'<option value="{party.pk}" selected>' in page.content.decode()
    xs = ContractType.objects.get(code="XS")
    response = c.post(
        reverse("web:contract_create"),
        {
            "title": "新合同",
            "contract_type": xs.pk,
            "counterparty": party.pk,
            "amount": "1,200,000",
            "currency": "CNY",
            "confidentiality": "internal",
            "tags": "重点, 政府",
            "expiry_date": "2027-12-31",
        },
    )
    assert response.status_code == 302
    created = Contract.objects.get(title="新合同")
    assert response["Location"] == detail(created)
    assert str(created.amount) == "1200000.00"
    assert sorted(t.name for t in created.tags.all()) == ["政府", "重点"]


def test_invalid_amount_shows_a_field_error_and_creates_nothing(
    login: Any, org: Any, party: Any
) -> None:
    xs = ContractType.objects.get(code="XS")
    response = login(org.sales1).post(
        reverse("web:contract_create"),
        {
            "title": "坏金额",
            "contract_type": xs.pk,
            "counterparty": party.pk,
            "amount": "-5",
            "currency": "CNY",
            "confidentiality": "internal",
        },
    )
    assert response.status_code == 200
    assert b'data-testid="error-amount"' in response.content
    assert not Contract.objects.filter(title="坏金额").exists()


def test_dates_in_wrong_order_show_a_field_error(login: Any, contract: Any) -> None:
    response = login(contract.owner).post(
        edit(contract),
        form_data(contract, effective_date="2027-01-01", expiry_date="2026-01-01"),
    )
    assert response.status_code == 200
    assert b'data-testid="error-expiry_date"' in response.content
    contract.refresh_from_db()
    assert contract.expiry_date is None


def test_edit_saves_changes(login: Any, contract: Any) -> None:
    response = login(contract.owner).post(edit(contract), form_data(contract, title="改后的标题"))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.title == "改后的标题"
    assert contract.version == 2


def test_stale_edit_shows_the_message_keeps_input_and_changes_nothing(
    login: Any, contract: Any
) -> None:
    c = login(contract.owner)
    stale_form = form_data(contract, title="我的修改")
    update_contract(
        actor=contract.owner, contract=contract, data={"title": "别人的修改"}, version=1
    )
    response = c.post(edit(contract), stale_form)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="stale-edit"' in body
    assert 'value="我的修改"' in body
    contract.refresh_from_db()
    assert contract.title == "别人的修改"
    assert contract.version == 2


def test_only_free_fields_are_editable_once_active(login: Any, org: Any) -> None:
    active = make_contract(org.sales1, state="active")
    c = login(org.sales1)
    response = c.post(edit(active), form_data(active, title="想改标题", notes="备注"))
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.notes == "备注"
    assert active.title != "想改标题"


# --- transitions and history ----------------------------------------------------------


def test_owner_submits_and_manager_approves_and_signs(login: Any, org: Any, contract: Any) -> None:
    owner = login(org.sales1)
    page = owner.get(detail(contract)).content.decode()
    assert 'data-testid="transition-submit"' in page
    assert 'data-testid="transition-approve"' not in page  # not on one's own contract
    owner.post(transition(contract), {"code": "submit", "version": contract.version})
    contract.refresh_from_db()
    assert contract.state == "in_review"

    head = login(org.head1)  # the first step: the submitter's department head
    home = head.get(reverse("web:home")).content.decode()
    assert contract.number in home  # awaiting my approval
    manager = login(org.manager)
    assert contract.number not in manager.get(reverse("web:home")).content.decode()
    manager.post(transition(contract), {"code": "approve"})  # not a contract step any more
    contract.refresh_from_db()
    assert contract.state == "in_review"
    # The approvers decide on their tasks: the department head, then legal.
    for approver in (org.head1, org.legal):
        task = ApprovalTask.objects.get(contract=contract, assignee=approver, state="open")
        login(approver).post(
            reverse("web:approval_decide", args=[task.pk]), {"decision": "approve"}
        )
    manager.post(transition(contract), {"code": "mark_signed", "signed_date": "2026-03-01"})
    contract.refresh_from_db()
    assert contract.state == "active"
    assert str(contract.signed_date) == "2026-03-01"
    page = manager.get(detail(contract)).content.decode()
    assert 'data-testid="contract-state" data-state="active"' in page
    assert "history" in page


def test_step_needing_a_reason_is_refused_without_one(login: Any, org: Any) -> None:
    in_review = make_contract(org.sales1, state="in_review")
    task = ApprovalTask.objects.get(contract=in_review, state="open")
    response = login(task.assignee).post(
        reverse("web:approval_decide", args=[task.pk]), {"decision": "return"}, follow=True
    )
    in_review.refresh_from_db()
    assert in_review.state == "in_review"
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_unknown_step_is_refused(login: Any, contract: Any) -> None:
    response = login(contract.owner).post(transition(contract), {"code": "explode"}, follow=True)
    contract.refresh_from_db()
    assert contract.state == "draft"
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_history_is_human_readable(login: Any, contract: Any) -> None:
    update_contract(
        actor=contract.owner, contract=contract, data={"confidentiality": "secret"}, version=1
    )
    c = login(contract.owner)
    c.post(reverse("web:language"), {"language": "en"})
    body = c.get(detail(contract)).content.decode()
    assert "Created" in body
    assert "Changed" in body
    assert "<del>Internal</del> → <ins>Secret</ins>" in body


def test_history_writes_amounts_and_dates_as_the_page_does(login: Any, contract: Any) -> None:
    update_contract(
        actor=contract.owner,
        contract=contract,
        data={"amount": "2500000.50", "expiry_date": "2027-03-31"},
        version=1,
    )
    c = login(contract.owner)
    body = c.get(detail(contract)).content.decode()  # 简体中文
    assert "<del>1,200,000.00</del> → <ins>2,500,000.50</ins>" in body
    assert "<ins>2027年3月31日</ins>" in body
    c.post(reverse("web:language"), {"language": "en"})
    body = c.get(detail(contract)).content.decode()
    assert "<ins>2,500,000.50</ins>" in body and "<ins>March 31, 2027</ins>" in body


# --- sharing ------------------------------------------------------------------------


def test_owner_shares_with_colleague_and_removes_the_share(
    login: Any, org: Any, contract: Any
) -> None:
    c = login(org.sales1)
    c.post(reverse("web:contract_share", args=[contract.pk]), {"user": org.colleague.pk})
    assert login(org.colleague).get(detail(contract)).status_code == 200
    share = contract.shares.get()
    c.post(reverse("web:contract_unshare", args=[contract.pk, share.pk]))
    assert login(org.colleague).get(detail(contract)).status_code == 404


def test_viewer_cannot_share(login: Any, org: Any, contract: Any) -> None:
    login(org.viewer).post(
        reverse("web:contract_share", args=[contract.pk]), {"user": org.sales2.pk}
    )
    assert not contract.shares.exists()


@pytest.mark.parametrize("odd", ["²", "9" * 40, "-1", "abc"])
def test_odd_numbers_in_input_are_refused_not_crashing(login: Any, contract: Any, odd: str) -> None:
    c = login(contract.owner)
    assert c.get(LIST, {"page_size": odd, "customer": odd}).status_code == 200
    assert (
        c.get(reverse("web:contract_create"), {"customer": odd, "parent": odd}).status_code == 200
    )
    share = c.post(reverse("web:contract_share", args=[contract.pk]), {"user": odd})
    assert share.status_code == 302
    step = c.post(transition(contract), {"code": "submit", "version": odd})
    assert step.status_code == 302


@pytest.mark.parametrize(
    "action",
    [
        "contract.created",
        "contract.viewed",
        "contract.submit",
        "contract.mark_signed",
        "document.uploaded",
        "document.text_extracted",
        "compliance.risk_changed",
        "payment.received",
        "instalment.planned",
        "invoice.issued",
        "obligation.added",
    ],
)
def test_every_event_of_a_contract_history_has_words_not_its_code(action: str) -> None:
    from django.utils import timezone, translation

    from qiyue.audit.models import AuditEvent
    from qiyue.web.history import describe

    event = AuditEvent(
        at=timezone.now(),
        actor_name="system",
        action=action,
        target_type="contract",
        target_id="1",
        data={"before": {"risk_level": "low"}, "after": {"risk_level": "high"}}
        if action == "compliance.risk_changed"
        else {},
    )
    with translation.override("zh-hans"):
        (entry,) = describe([event], names={})
    assert entry.label != action and "." not in entry.label
    if action == "compliance.risk_changed":
        assert entry.label == "合规风险变化"
        assert entry.changes == [("合规风险", "低", "高")]


@pytest.mark.parametrize("sort", ["-created", "title", "-amount", "expiry", "signed", "-number"])
def test_list_pages_by_ids_keep_the_order_of_every_sort(login: Any, org: Any, sort: str) -> None:
    import re
    from datetime import date, timedelta

    from qiyue.contracts.queries import contracts_for, parse_filters

    party = make_party(org.sales1)
    for i in range(7):
        make_contract(
            org.sales1,
            party=party,
            title=f"合同 {i % 3}",  # ties, broken by id
            amount=str(1000 * (i % 4)),
            expiry_date=date(2027, 1, 1) + timedelta(days=i % 2),
        )
    make_contract(org.sales2)  # not visible to sales1
    c = login(org.sales1)
    expected = [x.pk for x in contracts_for(org.sales1, parse_filters({"sort": sort}))]
    seen: list[int] = []
    for number in (1, 2):
        body = c.get(LIST, {"sort": sort, "page_size": 5, "page": number}).content.decode()
        seen += [
            int(x)
            for x in re.findall(
                r'data-testid="contract-row">\s*<td[^>]*><a href="/contracts/(\d+)/"', body
            )
        ]
    assert len(expected) == 7
    assert seen == expected
