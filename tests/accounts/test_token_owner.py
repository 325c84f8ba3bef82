"""accounts.queries.token_owner: the token's user as the ORM would load it (role,
department, headed departments), in one statement; and the list API's prepared page
following every change of what the caller may see."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from qiyue.accounts import actions as account_actions
from qiyue.accounts.access import headed_paths
from qiyue.accounts.models import Department, User, hash_token
from qiyue.accounts.queries import token_owner, user_with_role
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def _token(user: User) -> str:
    _t, raw = account_actions.create_api_token(actor=user, user=user, name="t")
    return raw


def _same_user(loaded: User, expected: User) -> None:
    for f in User._meta.concrete_fields:
        assert getattr(loaded, f.attname) == getattr(expected, f.attname), f.name
    assert loaded.role == expected.role
    if expected.role is not None:
        assert loaded.role.permissions == expected.role.permissions
        assert isinstance(loaded.role.permissions, list)
        assert loaded.role.data_scope == expected.role.data_scope
    assert loaded.department == expected.department
    if expected.department is not None:
        assert loaded.department.path == expected.department.path


def test_the_user_role_department_and_headed_paths_are_those_the_orm_loads(
    org: SimpleNamespace,
) -> None:
    for user in (org.sales1, org.head1, org.manager, org.admin):
        found = token_owner(hash_token(_token(user)))
        assert found is not None
        expected = user_with_role(user.pk)
        _same_user(found.user, expected)
        assert found.user._qiyue_headed_paths == list(
            expected.headed_departments.values_list("path", flat=True)
        )
        assert found.user.has_perm_code("contract.view") == expected.has_perm_code("contract.view")


def test_a_user_without_role_or_department_and_one_heading_two(org: SimpleNamespace) -> None:
    loner = User.objects.create_user(username="loner", password="pw")
    found = token_owner(hash_token(_token(loner)))
    assert found is not None
    assert found.user.role is None and found.user.department is None
    assert not found.user.has_perm_code("contract.view")
    assert found.user._qiyue_headed_paths == []

    other = Department.objects.exclude(head=org.head1).exclude(pk=org.head1.department_id).first()
    account_actions.set_department_head(actor=org.admin, department=other, head=org.head1)
    found = token_owner(hash_token(_token(org.head1)))
    assert found is not None
    fresh = User.objects.get(pk=org.head1.pk)
    assert found.user._qiyue_headed_paths == headed_paths(fresh)
    assert len(found.user._qiyue_headed_paths) == 2


def test_a_revoked_token_or_an_inactive_user_authenticates_no_one(org: SimpleNamespace) -> None:
    raw = _token(org.sales1)
    assert account_actions.authenticate_token(raw) == org.sales1
    token = org.sales1.api_tokens.get(token_hash=hash_token(raw))
    account_actions.revoke_api_token(actor=org.sales1, token=token)
    assert token_owner(hash_token(raw)) is None
    assert account_actions.authenticate_token(raw) is None
    raw = _token(org.sales2)
    User.objects.filter(pk=org.sales2.pk).update(is_active=False)
    assert account_actions.authenticate_token(raw) is None
    assert token_owner(hash_token("qy_nothing")) is None


def test_the_list_api_follows_a_role_change_and_a_share_at_once(
    org: SimpleNamespace,
    api: Any,  # noqa: F811
) -> None:
    from qiyue.contracts import actions as contract_actions

    theirs = make_contract(org.sales2, title="李娜的合同")
    mine = make_contract(org.sales1, title="张伟的合同")
    client = api(org.sales1)

    def listed() -> set[int]:
        response = client.get("/api/v1/contracts?page_size=200")
        assert response.status_code == 200
        return {item["id"] for item in response.json()["items"]}

    assert mine.pk in listed() and theirs.pk not in listed()
    User.objects.filter(pk=org.sales1.pk).update(role=org.roles["manager"])
    assert theirs.pk in listed()
    User.objects.filter(pk=org.sales1.pk).update(role=org.roles["sales"])
    assert theirs.pk not in listed()
    share = contract_actions.share_contract(actor=org.sales2, contract=theirs, user=org.sales1)
    assert theirs.pk in listed()
    contract_actions.unshare_contract(actor=org.sales2, share=share)
    assert theirs.pk not in listed()


def test_the_prepared_page_walks_every_contract_once_with_its_cursor(
    org: SimpleNamespace,
    api: Any,  # noqa: F811
) -> None:
    made = {make_contract(org.sales1, title=f"第{n}号").pk for n in range(7)}
    client = api(org.sales1)
    seen: list[int] = []
    url = "/api/v1/contracts?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    assert seen == sorted(seen, reverse=True)
    assert set(seen) >= made and len(seen) == len(set(seen))
