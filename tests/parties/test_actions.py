"""Customers: credit codes, duplicates, optimistic edits and contacts."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.parties.actions import PartyError, StaleEdit, add_contact, create_party, update_party
from qiyue.parties.models import Party
from tests.factories import make_party, valid_credit_code

pytestmark = pytest.mark.django_db


def _events(party: Party, action: str | None = None) -> Any:
    qs = AuditEvent.objects.filter(target_type="party", target_id=str(party.pk))
    return qs.filter(action=action) if action else qs


def test_sales_creates_a_customer_with_a_valid_credit_code(org: Any) -> None:
    code = valid_credit_code()
    party = create_party(
        actor=org.sales1, data={"name": "北京甲乙科技有限公司", "credit_code": code}
    )
    assert party.credit_code == code
    assert party.owner == org.sales1
    assert party.department == org.departments["销售一部"]
    assert party.normalized_name == "北京甲乙科技"
    event = _events(party).get()
    assert (event.action, event.actor) == ("party.created", org.sales1)
    assert event.data["after"]["credit_code"] == code


def test_a_credit_code_is_stored_normalised(org: Any) -> None:
    party = create_party(
        actor=org.sales1, data={"name": "福建某公司", "credit_code": " ９１３５０１００m000100y43 "}
    )
    assert party.credit_code == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    ["91350100M000100Y44", "91350100M000100Y4", "91350100M0001O0Y43", "ABCDEFGHIJKLMNOPQR", "x"],
)
def test_an_invalid_credit_code_is_refused_with_a_clear_error(org: Any, code: str) -> None:
    with translation.override("en"), pytest.raises(PartyError) as exc:
        create_party(actor=org.sales1, data={"name": "坏代码有限公司", "credit_code": code})
    assert "credit code" in exc.value.errors["credit_code"]
    assert not Party.objects.exists()


def test_a_customer_without_credit_code_is_fine(org: Any) -> None:
    party = create_party(
        actor=org.sales1, data={"name": "ACME GmbH", "foreign_registration": "HRB 12345"}
    )
    assert party.credit_code == ""
    second = create_party(actor=org.sales1, data={"name": "Globex Corp", "credit_code": ""})
    assert second.credit_code == ""


def test_a_duplicate_credit_code_is_refused_even_if_invisible(org: Any) -> None:
    code = valid_credit_code()
    existing = make_party(org.sales1, credit_code=code)
    assert not Party.objects.visible_to(org.sales2, "view").filter(pk=existing.pk).exists()
    with pytest.raises(PartyError) as exc:
        create_party(actor=org.sales2, data={"name": "另一个名字有限公司", "credit_code": code})
    assert "credit_code" in exc.value.errors
    assert Party.objects.count() == 1


def test_a_duplicate_credit_code_in_another_spelling_is_refused(org: Any) -> None:
    make_party(org.sales1, credit_code="91350100M000100Y43")
    with pytest.raises(PartyError) as exc:
        make_party(org.sales2, credit_code="91350100m000100y43")
    assert "credit_code" in exc.value.errors


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ACME Co., Ltd.", "acme co ltd"),
        ("北京甲乙有限公司", "北京甲乙 有限公司"),
        ("北京甲乙有限公司", "北京甲乙有限责任公司"),
        ("北京甲乙有限公司", "北京甲乙公司"),
    ],
)
def test_a_duplicate_normalised_name_is_refused(org: Any, first: str, second: str) -> None:
    make_party(org.sales1, name=first)
    with pytest.raises(PartyError) as exc:
        make_party(org.sales2, name=second)
    assert "name" in exc.value.errors
    assert Party.objects.count() == 1


def test_script_in_a_name_is_stored_verbatim(org: Any) -> None:
    name = "<img src=x onerror=alert(1)>有限公司"
    party = make_party(org.sales1, name=name)
    party.refresh_from_db()
    assert party.name == name


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "好公司", "status": "deleted"}, "status"),
        ({"name": "好公司", "address": "x" * 301}, "address"),
    ],
)
def test_bad_customer_data_is_refused(org: Any, data: dict[str, str], field: str) -> None:
    with pytest.raises(PartyError) as exc:
        create_party(actor=org.sales1, data=data)
    assert field in exc.value.errors
    assert not Party.objects.exists()


@pytest.mark.parametrize("persona", ["legal", "finance", "manager", "viewer"])
def test_roles_without_create_permission_cannot_create_customers(org: Any, persona: str) -> None:
    with pytest.raises(PartyError):
        create_party(actor=getattr(org, persona), data={"name": "某公司"})
    assert not Party.objects.exists()


# Edits -----------------------------------------------------------------------------------


def test_owner_updates_a_customer_and_the_change_is_audited(org: Any) -> None:
    party = make_party(org.sales1, name="旧名有限公司")
    after = update_party(
        actor=org.sales1,
        party=party,
        data={"name": "新名有限公司", "industry": "制造业"},
        version=party.version,
    )
    assert (after.name, after.normalized_name, after.version) == ("新名有限公司", "新名", 2)
    event = _events(party, "party.changed").get()
    assert event.actor == org.sales1
    assert event.data["before"]["name"] == "旧名有限公司"
    assert event.data["after"]["name"] == "新名有限公司"


def test_keeping_the_own_name_and_code_is_not_a_duplicate(org: Any) -> None:
    code = valid_credit_code()
    party = make_party(org.sales1, name="甲公司", credit_code=code)
    after = update_party(
        actor=org.sales1,
        party=party,
        data={"name": "甲公司", "credit_code": code, "notes": "n"},
        version=1,
    )
    assert after.notes == "n"


def test_renaming_onto_another_customer_is_refused(org: Any) -> None:
    make_party(org.sales1, name="甲有限公司")
    party = make_party(org.sales1, name="乙有限公司")
    with pytest.raises(PartyError) as exc:
        update_party(actor=org.sales1, party=party, data={"name": "甲公司"}, version=1)
    assert "name" in exc.value.errors
    party.refresh_from_db()
    assert (party.name, party.version) == ("乙有限公司", 1)


def test_a_stale_customer_edit_is_refused_and_changes_nothing(org: Any) -> None:
    party = make_party(org.sales1, name="原名有限公司")
    stale_copy = Party.objects.get(pk=party.pk)
    update_party(actor=org.sales1, party=party, data={"industry": "制造业"}, version=1)
    with pytest.raises(StaleEdit) as exc:
        update_party(actor=org.sales1, party=stale_copy, data={"name": "后到有限公司"}, version=1)
    assert "version" in exc.value.errors
    fresh = Party.objects.get(pk=party.pk)
    assert (fresh.name, fresh.industry, fresh.version) == ("原名有限公司", "制造业", 2)
    assert _events(party, "party.changed").count() == 1


@pytest.mark.parametrize("persona", ["sales2", "colleague", "viewer", "legal", "manager"])
def test_those_without_change_access_cannot_update_a_customer(org: Any, persona: str) -> None:
    party = make_party(org.sales1, name="受保护有限公司")
    with pytest.raises(PartyError):
        update_party(
            actor=getattr(org, persona), party=party, data={"name": "被改有限公司"}, version=1
        )
    party.refresh_from_db()
    assert (party.name, party.version) == ("受保护有限公司", 1)
    assert not _events(party, "party.changed").exists()


# Contacts --------------------------------------------------------------------------------


def test_owner_adds_a_contact(org: Any) -> None:
    party = make_party(org.sales1)
    contact = add_contact(
        actor=org.sales1,
        party=party,
        data={"name": "刘洋", "title": "采购经理", "phone": "13800000000", "email": "l@ex.cn"},
    )
    assert list(party.contacts.all()) == [contact]
    assert _events(party, "party.contact_added").get().actor == org.sales1


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.cn", "a b@c.cn"])
def test_a_contact_with_a_bad_email_is_refused(org: Any, email: str) -> None:
    party = make_party(org.sales1)
    with pytest.raises(PartyError) as exc:
        add_contact(actor=org.sales1, party=party, data={"name": "刘洋", "email": email})
    assert "email" in exc.value.errors
    assert not party.contacts.exists()


@pytest.mark.parametrize("name", ["", "  ", "x" * 101])
def test_a_contact_needs_a_name(org: Any, name: str) -> None:
    party = make_party(org.sales1)
    with pytest.raises(PartyError) as exc:
        add_contact(actor=org.sales1, party=party, data={"name": name})
    assert "name" in exc.value.errors


def test_an_outsider_cannot_add_a_contact(org: Any) -> None:
    party = make_party(org.sales1)
    with pytest.raises(PartyError):
        add_contact(actor=org.sales2, party=party, data={"name": "冒充者"})
    assert not party.contacts.exists()
