"""Creating and editing contracts: validation, optimistic locking, locked fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from qiyue.audit.models import AuditEvent
from qiyue.contracts import actions
from qiyue.contracts.actions import (
    ContractError,
    NotAllowed,
    StaleEdit,
    create_contract,
    update_contract,
)
from qiyue.contracts.models import Contract, NumberSequence
from qiyue.parties import actions as party_actions
from tests.factories import make_contract, make_party

pytestmark = pytest.mark.django_db


def _data(org: Any, party: Any, **extra: Any) -> dict[str, Any]:
    return {
        "title": "年度软件许可合同",
        "contract_type": org.types["XS"].pk,
        "counterparty": party.pk,
        "amount": "1,200,000.00",
        **extra,
    }


def _events(contract: Contract, action: str | None = None) -> Any:
    qs = AuditEvent.objects.filter(target_type="contract", target_id=str(contract.pk))
    return qs.filter(action=action) if action else qs


def _assert_unchanged(contract: Contract) -> None:
    fresh = Contract.objects.get(pk=contract.pk)
    for field in ("title", "amount", "state", "version", "notes", "expiry_date", "parent_id"):
        assert getattr(fresh, field) == getattr(contract, field), field
    assert not _events(contract, "contract.changed").exists()


# Creation --------------------------------------------------------------------------------


def test_owner_creates_a_contract_with_number_and_audit_event(org: Any) -> None:
    party = make_party(org.sales1)
    contract = create_contract(
        actor=org.sales1,
        data=_data(
            org,
            party,
            tax_rate="13",
            effective_date="2026-01-01",
            expiry_date="2026-12-31",
            tags="战略客户，续约",
            currency="USD",
        ),
    )
    assert contract.number == f"XS-{date.today().year}-00001"
    assert contract.owner == org.sales1
    assert contract.department == org.departments["销售一部"]
    assert contract.amount == Decimal("1200000.00")
    assert contract.tax_rate == Decimal("13.00")
    assert contract.state == "draft"
    assert contract.version == 1
    assert sorted(t.name for t in contract.tags.all()) == ["战略客户", "续约"]
    event = _events(contract).get()
    assert event.action == "contract.created"
    assert event.actor == org.sales1
    after = event.data["after"]
    assert after["number"] == contract.number
    assert after["amount"] == "1200000.00"
    assert after["counterparty"] == party.pk
    assert after["tags"] == ["战略客户", "续约"]


@pytest.mark.parametrize("persona", ["legal", "finance", "manager", "viewer"])
def test_roles_without_create_permission_cannot_create(org: Any, persona: str) -> None:
    party = make_party(org.sales1)
    with pytest.raises(NotAllowed):
        create_contract(actor=getattr(org, persona), data=_data(org, party))
    assert not Contract.objects.exists()
    assert not NumberSequence.objects.exists()


@pytest.mark.parametrize("missing", ["title", "contract_type", "counterparty"])
def test_creation_needs_title_type_and_customer(org: Any, missing: str) -> None:
    party = make_party(org.sales1)
    data = _data(org, party)
    del data[missing]
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=data)
    assert missing in exc.value.errors


def test_a_customer_the_actor_cannot_see_is_refused(org: Any) -> None:
    foreign = make_party(org.sales2)
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, foreign))
    assert "counterparty" in exc.value.errors
    assert not Contract.objects.exists()


def test_a_blocked_customer_gets_no_new_contract(org: Any) -> None:
    party = make_party(org.sales1, status="blocked")
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, party))
    assert "counterparty" in exc.value.errors


def test_an_inactive_contract_type_is_refused(org: Any) -> None:
    xs = org.types["XS"]
    xs.is_active = False
    xs.save(update_fields=["is_active"])
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, make_party(org.sales1)))
    assert "contract_type" in exc.value.errors


def test_sales_cannot_assign_a_contract_to_someone_else(org: Any) -> None:
    party = make_party(org.sales1)
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, party, owner=org.sales2.pk))
    assert "owner" in exc.value.errors


def test_admin_assigns_a_contract_to_another_owner_and_department(org: Any) -> None:
    party = make_party(org.admin)
    contract = create_contract(actor=org.admin, data=_data(org, party, owner=org.sales2.pk))
    assert contract.owner == org.sales2
    assert contract.department == org.departments["销售二部"]
    assert contract.created_by == org.admin


def test_a_failed_creation_leaves_no_contract_event_or_number(org: Any) -> None:
    party = make_party(org.sales1)
    first = create_contract(actor=org.sales1, data=_data(org, party))
    events = AuditEvent.objects.count()
    with pytest.raises(ContractError):
        create_contract(
            actor=org.sales1,
            data=_data(org, party, effective_date="2026-05-01", expiry_date="2026-04-30"),
        )
    assert Contract.objects.count() == 1
    assert AuditEvent.objects.count() == events
    second = create_contract(actor=org.sales1, data=_data(org, party))
    year = date.today().year
    assert (first.number, second.number) == (f"XS-{year}-00001", f"XS-{year}-00002")


def test_a_creation_failing_after_numbering_gives_the_number_back(
    org: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    party = make_party(org.sales1)
    events = AuditEvent.objects.count()

    def broken_record(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "record", broken_record)
    with pytest.raises(RuntimeError):
        create_contract(actor=org.sales1, data=_data(org, party))
    monkeypatch.undo()
    assert not Contract.objects.exists()
    assert AuditEvent.objects.count() == events
    assert not NumberSequence.objects.exists()
    contract = create_contract(actor=org.sales1, data=_data(org, party))
    assert contract.number == f"XS-{date.today().year}-00001"


# Bad input (on creation and on edits alike) ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", "abc"),
        ("amount", "-1"),
        ("amount", "1e30"),
        ("amount", "NaN"),
        ("amount", "Infinity"),
        ("amount", float("nan")),
        ("amount", "10000000000000000"),
        ("tax_rate", "101"),
        ("tax_rate", "-1"),
        ("tax_rate", "abc"),
        ("tax_rate", "NaN"),
        ("currency", "XXX"),
        ("effective_date", "2026-02-30"),
        ("expiry_date", "tomorrow"),
        ("title", "x" * 201),
        ("title", ""),
        ("title", "   "),
        ("payment_terms", "x" * 2001),
        ("notes", "x" * 5001),
        ("confidentiality", "top"),
        ("relation", "cousin"),
        ("notice_period_days", "-1"),
        ("notice_period_days", "abc"),
        ("renewal_term_months", "0"),
        ("auto_renew", "maybe"),
        ("tags", ["x" * 51]),
        ("tags", [f"t{i}" for i in range(21)]),
        ("contract_type", "abc"),
        ("contract_type", 999999),
        ("owner", 999999),
        ("counterparty", "abc"),
        ("parent", 999999),
    ],
)
def test_bad_values_are_refused_naming_the_field(org: Any, field: str, value: Any) -> None:
    party = make_party(org.sales1)
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, party, **{field: value}))
    assert field in exc.value.errors
    assert not Contract.objects.exists()

    contract = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1, contract=contract, data={field: value}, version=contract.version
        )
    assert field in exc.value.errors
    _assert_unchanged(contract)


def test_unknown_fields_are_refused(org: Any) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1,
            contract=contract,
            data={"state": "active", "version": 9, "number": "X"},
            version=contract.version,
        )
    assert "number" in exc.value.errors["__all__"]
    _assert_unchanged(contract)


def test_expiry_before_effective_is_refused_against_the_stored_date(org: Any) -> None:
    contract = make_contract(org.sales1, effective_date="2026-06-01")
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1,
            contract=contract,
            data={"expiry_date": "2026-05-31"},
            version=contract.version,
        )
    assert "expiry_date" in exc.value.errors
    _assert_unchanged(contract)


def test_expiry_on_the_effective_date_is_fine(org: Any) -> None:
    contract = make_contract(org.sales1, effective_date="2026-06-01", expiry_date="2026-06-01")
    assert contract.expiry_date == contract.effective_date


def test_script_in_title_is_stored_verbatim(org: Any) -> None:
    title = "<script>alert('x')</script> & 合同 =cmd|' /C calc'!A0"
    contract = make_contract(org.sales1, title=title)
    contract.refresh_from_db()
    assert contract.title == title


def test_title_of_exactly_200_characters_is_accepted(org: Any) -> None:
    contract = make_contract(org.sales1, title="合" * 200)
    assert len(contract.title) == 200


def test_a_contract_cannot_be_its_own_parent(org: Any) -> None:
    contract = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1,
            contract=contract,
            data={"parent": contract.pk, "relation": "amendment"},
            version=contract.version,
        )
    assert "parent" in exc.value.errors
    _assert_unchanged(contract)


def test_relations_cannot_form_a_cycle(org: Any) -> None:
    main = make_contract(org.sales1)
    amendment = make_contract(
        org.sales1, party=main.counterparty, parent=main.pk, relation="amendment"
    )
    order = make_contract(
        org.sales1, party=main.counterparty, parent=amendment.pk, relation="order"
    )
    for parent in (amendment, order):
        with pytest.raises(ContractError) as exc:
            update_contract(
                actor=org.sales1,
                contract=main,
                data={"parent": parent.pk, "relation": "renewal"},
                version=main.version,
            )
        assert "parent" in exc.value.errors
    _assert_unchanged(main)


def test_a_relation_needs_a_parent(org: Any) -> None:
    party = make_party(org.sales1)
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, party, relation="order"))
    assert "parent" in exc.value.errors


def test_a_parent_needs_a_relation(org: Any) -> None:
    main = make_contract(org.sales1)
    with pytest.raises(ContractError) as exc:
        create_contract(actor=org.sales1, data=_data(org, main.counterparty, parent=main.pk))
    assert "relation" in exc.value.errors


def test_an_amendment_relates_to_its_main_contract(org: Any) -> None:
    main = make_contract(org.sales1, state="active")
    amendment = make_contract(
        org.sales1,
        party=main.counterparty,
        type_code="BC",
        parent=main.pk,
        relation="amendment",
    )
    assert amendment.parent == main
    assert list(main.children.all()) == [amendment]


def test_a_parent_the_actor_cannot_see_is_refused(org: Any) -> None:
    foreign = make_contract(org.sales2)
    party = make_party(org.sales1)
    with pytest.raises(ContractError) as exc:
        create_contract(
            actor=org.sales1, data=_data(org, party, parent=foreign.pk, relation="amendment")
        )
    assert "parent" in exc.value.errors


# Edits -----------------------------------------------------------------------------------


def test_owner_edits_a_draft_and_the_change_is_audited(org: Any) -> None:
    contract = make_contract(org.sales1, title="旧标题", amount="100")
    after = update_contract(
        actor=org.sales1,
        contract=contract,
        data={"title": "新标题", "amount": "250.5", "notes": ""},
        version=1,
    )
    assert (after.title, after.amount, after.version) == ("新标题", Decimal("250.50"), 2)
    event = _events(contract, "contract.changed").get()
    assert event.actor == org.sales1
    assert event.data["before"] == {"title": "旧标题", "amount": "100.00"}
    assert event.data["after"] == {"title": "新标题", "amount": "250.50"}


def test_changing_tags_is_audited(org: Any) -> None:
    contract = make_contract(org.sales1, tags=["a"])
    update_contract(
        actor=org.sales1, contract=contract, data={"tags": ["b", "a"]}, version=contract.version
    )
    event = _events(contract, "contract.changed").get()
    assert event.data == {"before": {"tags": ["a"]}, "after": {"tags": ["a", "b"]}}


def test_a_stale_edit_is_refused_and_changes_nothing(org: Any) -> None:
    contract = make_contract(org.sales1, title="原标题")
    stale_copy = Contract.objects.get(pk=contract.pk)
    update_contract(actor=org.sales1, contract=contract, data={"notes": "先到"}, version=1)
    with pytest.raises(StaleEdit) as exc:
        update_contract(actor=org.sales1, contract=stale_copy, data={"title": "后到"}, version=1)
    assert exc.value.code == "stale"
    fresh = Contract.objects.get(pk=contract.pk)
    assert (fresh.title, fresh.notes, fresh.version) == ("原标题", "先到", 2)
    assert _events(contract, "contract.changed").count() == 1


def test_an_outsider_cannot_edit(org: Any) -> None:
    contract = make_contract(org.sales1)
    for persona in ("sales2", "colleague", "viewer", "head1", "legal", "manager"):
        with pytest.raises(NotAllowed):
            update_contract(
                actor=getattr(org, persona),
                contract=contract,
                data={"notes": "x"},
                version=contract.version,
            )
    _assert_unchanged(contract)


@pytest.mark.parametrize("state", ["in_review", "approved", "signing", "active", "expired"])
def test_amount_is_locked_after_submission(org: Any, state: str) -> None:
    contract = make_contract(org.sales1, state=state)
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1, contract=contract, data={"amount": "1"}, version=contract.version
        )
    assert exc.value.code == "state"
    assert "amount" in exc.value.errors
    _assert_unchanged(contract)


def test_notes_tags_and_confidentiality_stay_editable_on_an_active_contract(org: Any) -> None:
    contract = make_contract(org.sales1, state="active")
    after = update_contract(
        actor=org.sales1,
        contract=contract,
        data={"notes": "客户要求纸质原件", "tags": ["重点项目"], "confidentiality": "secret"},
        version=contract.version,
    )
    assert after.notes == "客户要求纸质原件"
    assert after.confidentiality == "secret"
    assert [t.name for t in after.tags.all()] == ["重点项目"]
    assert after.state == "active"


def test_a_returned_contract_is_editable_again(org: Any) -> None:
    contract = make_contract(org.sales1, state="returned")
    after = update_contract(
        actor=org.sales1, contract=contract, data={"amount": "99"}, version=contract.version
    )
    assert after.amount == Decimal("99.00")


def test_an_archived_contract_is_frozen(org: Any) -> None:
    contract = make_contract(org.sales1, state="archived")
    for data in ({"notes": "x"}, {"amount": "1"}, {"tags": ["x"]}):
        with pytest.raises(NotAllowed) as exc:
            update_contract(actor=org.admin, contract=contract, data=data, version=contract.version)
        assert exc.value.code == "state"
    _assert_unchanged(contract)


def test_the_customer_of_a_draft_can_change_to_another_visible_one(org: Any) -> None:
    contract = make_contract(org.sales1)
    other = make_party(org.sales1)
    after = update_contract(
        actor=org.sales1, contract=contract, data={"counterparty": other.pk}, version=1
    )
    assert after.counterparty == other


def test_the_customer_cannot_change_to_one_the_actor_cannot_see(org: Any) -> None:
    contract = make_contract(org.sales1)
    foreign = make_party(org.sales2)
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1, contract=contract, data={"counterparty": foreign.pk}, version=1
        )
    assert "counterparty" in exc.value.errors
    _assert_unchanged(contract)


def test_an_edit_to_a_blocked_customer_is_refused(org: Any) -> None:
    contract = make_contract(org.sales1)
    blocked = make_party(org.sales1)
    party_actions.update_party(
        actor=org.sales1, party=blocked, data={"status": "blocked"}, version=blocked.version
    )
    with pytest.raises(ContractError) as exc:
        update_contract(
            actor=org.sales1, contract=contract, data={"counterparty": blocked.pk}, version=1
        )
    assert "counterparty" in exc.value.errors


def test_admin_reassigning_the_owner_moves_the_department(org: Any) -> None:
    contract = make_contract(org.sales1)
    after = update_contract(
        actor=org.admin, contract=contract, data={"owner": org.sales2.pk}, version=1
    )
    assert (after.owner, after.department) == (org.sales2, org.departments["销售二部"])
    assert not Contract.objects.visible_to(org.sales1, "view").filter(pk=contract.pk).exists()
