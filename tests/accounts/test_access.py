"""The one access policy, at the query level: every persona, every action.

The contract and the customer belong to ``sales1`` in 销售一部."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from qiyue.accounts import actions as account_actions
from qiyue.accounts.access import UnknownAction
from qiyue.contracts import actions as contract_actions
from qiyue.contracts.models import Contract
from qiyue.contracts.queries import (
    available_transitions,
    contract_for,
    contracts_for,
    dashboard_for,
    history_for,
)
from qiyue.parties.models import Party
from qiyue.parties.queries import parties_for, party_for
from tests.factories import make_contract, make_party

pytestmark = pytest.mark.django_db

ACTIONS = ["view", "change", "approve", "sign", "terminate", "archive", "export", "share"]

# persona -> the actions it may take on sales1's contract.
CONTRACT_MATRIX: dict[str, set[str]] = {
    "admin": set(ACTIONS),
    "manager": set(ACTIONS) - {"change"},
    "sales1": {"view", "change", "sign", "export", "share"},
    "colleague": set(),
    "head1": {"view", "export"},
    "viewer": {"view"},
    "sales2": set(),
    "legal": {"view", "approve", "export"},
    "finance": {"view", "approve", "export"},
}

PARTY_MATRIX: dict[str, set[str]] = {
    "admin": {"view", "change"},
    "manager": {"view"},
    "sales1": {"view", "change"},
    "colleague": set(),
    "head1": {"view"},
    "viewer": {"view"},
    "sales2": set(),
    "legal": {"view"},
    "finance": {"view"},
}


@pytest.fixture
def deal(org: Any) -> Contract:
    return make_contract(org.sales1, title="销售一部的合同")


@pytest.mark.parametrize("persona", list(CONTRACT_MATRIX))
@pytest.mark.parametrize("action", ACTIONS)
def test_contract_access_matrix(org: Any, deal: Contract, persona: str, action: str) -> None:
    user = getattr(org, persona)
    visible = Contract.objects.visible_to(user, action).filter(pk=deal.pk).exists()
    assert visible is (action in CONTRACT_MATRIX[persona])


@pytest.mark.parametrize("persona", list(PARTY_MATRIX))
@pytest.mark.parametrize("action", ["view", "change"])
def test_party_access_matrix(org: Any, persona: str, action: str) -> None:
    party = make_party(org.sales1)
    user = getattr(org, persona)
    visible = Party.objects.visible_to(user, action).filter(pk=party.pk).exists()
    assert visible is (action in PARTY_MATRIX[persona])


@pytest.mark.parametrize("persona", [p for p, acts in CONTRACT_MATRIX.items() if "view" in acts])
def test_contract_detail_is_found_by_those_who_may_view(
    org: Any, deal: Contract, persona: str
) -> None:
    assert contract_for(getattr(org, persona), deal.pk) == deal


@pytest.mark.parametrize("persona", ["colleague", "sales2"])
def test_outsider_gets_404_for_contract_of_other_owner(
    org: Any, deal: Contract, persona: str
) -> None:
    with pytest.raises(Http404):
        contract_for(getattr(org, persona), deal.pk)
    with pytest.raises(Http404):
        history_for(getattr(org, persona), deal)
    assert not contracts_for(getattr(org, persona)).filter(pk=deal.pk).exists()


def test_outsider_cannot_see_contract_of_other_department(org: Any, deal: Contract) -> None:
    assert list(contracts_for(org.sales2)) == []
    assert dashboard_for(org.sales2)["total"] == 0
    assert dashboard_for(org.sales1)["total"] == 1


def test_outsider_gets_404_for_customer_of_other_department(org: Any) -> None:
    party = make_party(org.sales1)
    with pytest.raises(Http404):
        party_for(org.sales2, party.pk)
    assert not parties_for(org.sales2).filter(pk=party.pk).exists()
    assert party_for(org.sales1, party.pk) == party


def test_viewer_sees_department_contracts_but_cannot_change_them(org: Any, deal: Contract) -> None:
    assert contract_for(org.viewer, deal.pk) == deal
    with pytest.raises(Http404):
        contract_for(org.viewer, deal.pk, "change")


def test_viewer_does_not_see_other_departments(org: Any) -> None:
    other = make_contract(org.sales2)
    assert not Contract.objects.visible_to(org.viewer, "view").filter(pk=other.pk).exists()


def test_department_head_sees_subdepartment_records(org: Any) -> None:
    sub = account_actions.create_department(
        actor=org.admin, name="华东组", parent=org.departments["销售一部"]
    )
    rep = account_actions.create_user(
        actor=org.admin, username="rep", password="pw", department=sub, role=org.roles["sales"]
    )
    contract = make_contract(rep)
    assert contract.department == sub
    assert Contract.objects.visible_to(org.head1, "view").filter(pk=contract.pk).exists()
    # The viewer's scope is the own department only, not its sub-departments.
    assert not Contract.objects.visible_to(org.viewer, "view").filter(pk=contract.pk).exists()
    # Nor does another department's user.
    assert not Contract.objects.visible_to(org.sales2, "view").filter(pk=contract.pk).exists()


def test_subtree_scope_reaches_sub_departments(org: Any) -> None:
    role = account_actions.save_role(
        actor=org.admin,
        code="area",
        name="区域经理",
        permissions=["contract.view"],
        data_scope="subtree",
    )
    sub = account_actions.create_department(
        actor=org.admin, name="华南组", parent=org.departments["销售一部"]
    )
    rep = account_actions.create_user(
        actor=org.admin, username="rep2", password="pw", department=sub, role=org.roles["sales"]
    )
    area = account_actions.create_user(
        actor=org.admin,
        username="area",
        password="pw",
        department=org.departments["销售一部"],
        role=role,
    )
    below = make_contract(rep)
    beside = make_contract(org.sales2)
    assert Contract.objects.visible_to(area, "view").filter(pk=below.pk).exists()
    assert not Contract.objects.visible_to(area, "view").filter(pk=beside.pk).exists()


def test_user_without_role_sees_nothing(org: Any, deal: Contract) -> None:
    nobody = account_actions.create_user(
        actor=org.admin, username="norole", password="pw", department=org.departments["销售一部"]
    )
    for action in ACTIONS:
        assert not Contract.objects.visible_to(nobody, action).exists()
    assert not Party.objects.visible_to(nobody, "view").exists()


def test_inactive_user_sees_nothing_not_even_own_records(org: Any, deal: Contract) -> None:
    org.sales1.is_active = False
    org.sales1.save(update_fields=["is_active"])
    for action in ACTIONS:
        assert not Contract.objects.visible_to(org.sales1, action).exists()
    assert not Party.objects.visible_to(org.sales1, "view").exists()


def test_inactive_superuser_sees_nothing(org: Any, deal: Contract) -> None:
    org.admin.is_active = False
    org.admin.save(update_fields=["is_active"])
    assert not Contract.objects.visible_to(org.admin, "view").exists()


@pytest.mark.parametrize("user", [AnonymousUser(), None])
def test_anonymous_sees_nothing(org: Any, deal: Contract, user: Any) -> None:
    for action in ACTIONS:
        assert not Contract.objects.visible_to(user, action).exists()
    assert not Party.objects.visible_to(user, "view").exists()
    with pytest.raises(Http404):
        contract_for(user, deal.pk)


@pytest.mark.parametrize("action", ["delete", "", "VIEW", "approve "])
def test_unknown_contract_action_raises(org: Any, action: str) -> None:
    with pytest.raises(UnknownAction):
        Contract.objects.visible_to(org.admin, action)


@pytest.mark.parametrize("action", ["approve", "delete", "share"])
def test_unknown_party_action_raises(org: Any, action: str) -> None:
    with pytest.raises(UnknownAction):
        Party.objects.visible_to(org.admin, action)


def test_unknown_action_raises_even_for_anonymous() -> None:
    with pytest.raises(UnknownAction):
        Contract.objects.visible_to(AnonymousUser(), "delete")


# Sharing -------------------------------------------------------------------------------


def test_colleague_sees_nothing_of_owner_until_shared(org: Any, deal: Contract) -> None:
    assert not Contract.objects.visible_to(org.colleague, "view").exists()
    contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.colleague)
    assert contract_for(org.colleague, deal.pk) == deal
    assert Contract.objects.visible_to(org.colleague, "export").filter(pk=deal.pk).exists()
    for action in ("change", "approve", "sign", "terminate", "archive", "share"):
        assert not Contract.objects.visible_to(org.colleague, action).exists(), action


def test_editable_share_grants_change(org: Any, deal: Contract) -> None:
    contract_actions.share_contract(
        actor=org.sales1, contract=deal, user=org.colleague, can_edit=True
    )
    assert contract_for(org.colleague, deal.pk, "change") == deal
    updated = contract_actions.update_contract(
        actor=org.colleague, contract=deal, data={"notes": "同事补充"}, version=deal.version
    )
    assert updated.notes == "同事补充"


def test_editable_share_does_not_grant_change_without_the_permission(
    org: Any, deal: Contract
) -> None:
    contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.legal, can_edit=True)
    assert not Contract.objects.visible_to(org.legal, "change").exists()


def test_share_with_department_reaches_its_members(org: Any, deal: Contract) -> None:
    contract_actions.share_contract(
        actor=org.sales1, contract=deal, department=org.departments["销售二部"]
    )
    assert contract_for(org.sales2, deal.pk) == deal
    assert not Contract.objects.visible_to(org.sales2, "change").exists()
    assert not Contract.objects.visible_to(org.colleague, "view").exists()


def test_unshare_removes_access(org: Any, deal: Contract) -> None:
    share = contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.sales2)
    assert contract_for(org.sales2, deal.pk) == deal
    contract_actions.unshare_contract(actor=org.sales1, share=share)
    with pytest.raises(Http404):
        contract_for(org.sales2, deal.pk)


def test_contract_shared_twice_is_listed_once(org: Any, deal: Contract) -> None:
    contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.sales2)
    contract_actions.share_contract(
        actor=org.sales1, contract=deal, department=org.departments["销售二部"], can_edit=True
    )
    assert [c.pk for c in contracts_for(org.sales2)] == [deal.pk]
    assert Contract.objects.visible_to(org.sales2, "view").count() == 1
    assert Contract.objects.visible_to(org.sales2, "change").count() == 1
    assert dashboard_for(org.sales2)["total"] == 1


def test_sharing_again_updates_the_existing_share(org: Any, deal: Contract) -> None:
    contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.colleague)
    contract_actions.share_contract(
        actor=org.sales1, contract=deal, user=org.colleague, can_edit=True
    )
    assert deal.shares.count() == 1
    assert Contract.objects.visible_to(org.colleague, "change").filter(pk=deal.pk).exists()


def test_outsider_cannot_share_a_contract_they_cannot_see(org: Any, deal: Contract) -> None:
    with pytest.raises(contract_actions.NotAllowed):
        contract_actions.share_contract(actor=org.sales2, contract=deal, user=org.sales2)
    assert deal.shares.count() == 0


def test_share_needs_exactly_one_user_or_department(org: Any, deal: Contract) -> None:
    with pytest.raises(contract_actions.ContractError):
        contract_actions.share_contract(actor=org.sales1, contract=deal)
    with pytest.raises(contract_actions.ContractError):
        contract_actions.share_contract(
            actor=org.sales1,
            contract=deal,
            user=org.sales2,
            department=org.departments["销售二部"],
        )


def test_a_share_recipient_cannot_remove_the_share(org: Any, deal: Contract) -> None:
    share = contract_actions.share_contract(actor=org.sales1, contract=deal, user=org.colleague)
    with pytest.raises(contract_actions.NotAllowed):
        contract_actions.unshare_contract(actor=org.colleague, share=share)
    assert deal.shares.count() == 1


# Steps offered -------------------------------------------------------------------------


def test_owner_is_offered_submit_but_not_approve(org: Any, deal: Contract) -> None:
    assert [t.code for t in available_transitions(org.sales1, deal)] == ["submit"]


def test_approving_is_never_a_manual_step(org: Any) -> None:
    # approvers decide on their approval tasks; the contract moves as the workflow says
    contract = make_contract(org.sales1, state="in_review")
    assert {t.code for t in available_transitions(org.legal, contract)} & {
        "approve",
        "return",
    } == set()
    assert available_transitions(org.sales2, contract) == []
    assert available_transitions(org.viewer, contract) == []
