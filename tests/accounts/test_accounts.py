"""Accounts: API tokens, login throttling, departments, roles, demo data and the CLI."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from qiyue.accounts import actions
from qiyue.accounts.actions import (
    AccountError,
    authenticate_token,
    clear_login_failures,
    create_api_token,
    login_locked,
    note_login_failure,
    revoke_api_token,
)
from qiyue.accounts.models import ApiToken, Department, LoginFailure, Role, User, hash_token
from qiyue.accounts.permissions import BUILTIN_ROLES
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, ContractState
from qiyue.parties.models import Party

pytestmark = pytest.mark.django_db


# API tokens ------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(org: Any) -> None:
    token, raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    assert raw.startswith("qy_")
    assert len(raw) > 40
    token.refresh_from_db()
    assert token.token_hash == hash_token(raw)
    assert token.prefix == raw[:10]
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert raw not in str(AuditEvent.objects.filter(action="api_token.created").get().data)


def test_tokens_are_distinct(org: Any) -> None:
    raws = {create_api_token(actor=org.sales1, user=org.sales1, name="t")[1] for _ in range(5)}
    assert len(raws) == 5


def test_a_token_authenticates_its_user_and_marks_it_used(org: Any) -> None:
    token, raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    assert token.last_used_at is None
    assert authenticate_token(raw) == org.sales1
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_last_used_is_written_at_most_once_a_minute(org: Any) -> None:
    token, raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    authenticate_token(raw)
    token.refresh_from_db()
    first = token.last_used_at
    authenticate_token(raw)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    authenticate_token(raw)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=5)


@pytest.mark.parametrize(
    "raw",
    ["", "qy_", "qy_wrong", "Bearer qy_x", "x" * 300, "qy_" + "a" * 300, "not-a-token"],
)
def test_unknown_tokens_fail(org: Any, raw: str) -> None:
    create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    assert authenticate_token(raw) is None


def test_a_revoked_token_fails(org: Any) -> None:
    token, raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    revoke_api_token(actor=org.sales1, token=token)
    assert authenticate_token(raw) is None
    token.refresh_from_db()
    assert not token.is_active
    # Revoking twice records one event.
    revoke_api_token(actor=org.sales1, token=token)
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_a_token_of_an_inactive_user_fails(org: Any) -> None:
    _token, raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    org.sales1.is_active = False
    org.sales1.save(update_fields=["is_active"])
    assert authenticate_token(raw) is None


def test_only_admins_create_tokens_for_others(org: Any) -> None:
    with pytest.raises(AccountError):
        create_api_token(actor=org.sales2, user=org.sales1, name="steal")
    assert not ApiToken.objects.filter(user=org.sales1).exists()
    _token, raw = create_api_token(actor=org.admin, user=org.sales1, name="for sales1")
    assert authenticate_token(raw) == org.sales1


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_token_needs_a_sensible_name(org: Any, name: str) -> None:
    with pytest.raises(AccountError):
        create_api_token(actor=org.sales1, user=org.sales1, name=name)


def test_token_command_prints_the_token_as_the_last_line(org: Any) -> None:
    out, err = StringIO(), StringIO()
    call_command("token", "create", "sales1", stdout=out, stderr=err)
    raw = out.getvalue().strip().splitlines()[-1]
    assert authenticate_token(raw) == org.sales1
    assert raw not in err.getvalue()
    listing = StringIO()
    call_command("token", "list", "sales1", stdout=listing)
    assert "cli" in listing.getvalue()
    assert raw not in listing.getvalue()


def test_token_command_refuses_unknown_users(org: Any) -> None:
    with pytest.raises(CommandError):
        call_command("token", "create", "nobody", stdout=StringIO(), stderr=StringIO())


# Login throttling ------------------------------------------------------------------------


def test_logins_lock_after_the_configured_number_of_failures(org: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        note_login_failure("sales1", "10.0.0.1")
    assert not login_locked("sales1", "10.0.0.1")
    note_login_failure("SALES1", "10.0.0.2")
    assert login_locked("sales1", None)
    assert login_locked("Sales1", "10.9.9.9")
    assert not login_locked("sales2", "10.0.0.3")


def test_the_lock_expires(org: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    settings.LOGIN_LOCKOUT_SECONDS = 60
    for _ in range(2):
        note_login_failure("sales1", None)
    assert login_locked("sales1", None)
    LoginFailure.objects.update(at=timezone.now() - timedelta(seconds=61))
    assert not login_locked("sales1", None)


def test_clearing_failures_unlocks(org: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 1
    note_login_failure("sales1", None)
    assert login_locked("sales1", None)
    clear_login_failures("SALES1")
    assert not login_locked("sales1", None)


def test_one_address_guessing_many_names_is_locked_later(org: Any, settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 2
    for n in range(7):
        note_login_failure(f"user{n}", "203.0.113.9")
    assert not login_locked("someone", "203.0.113.9")
    note_login_failure("user7", "203.0.113.9")
    assert login_locked("someone", "203.0.113.9")
    assert not login_locked("someone", "203.0.113.10")


def test_an_overlong_user_name_is_truncated_not_an_error(org: Any) -> None:
    note_login_failure("x" * 500, None)
    assert LoginFailure.objects.get().username == "x" * 150


# Departments, users and roles ------------------------------------------------------------


def test_departments_carry_their_tree_path(org: Any) -> None:
    root = org.departments["管理层"]
    sales = org.departments["销售一部"]
    east = actions.create_department(actor=org.admin, name="华东组", parent=sales)
    shanghai = actions.create_department(actor=org.admin, name="上海", parent=east)
    assert root.path == f"/{root.pk}/"
    assert sales.path == f"/{root.pk}/{sales.pk}/"
    assert shanghai.path == f"/{root.pk}/{sales.pk}/{east.pk}/{shanghai.pk}/"
    assert set(sales.subtree()) == {sales, east, shanghai}
    assert set(east.subtree()) == {east, shanghai}
    assert org.departments["销售二部"] not in set(sales.subtree())


def test_a_department_path_prefix_does_not_match_a_sibling(org: Any) -> None:
    # "/1/2/" must not be taken for a prefix of "/1/23/": paths end with a slash.
    root = org.departments["管理层"]
    made = [actions.create_department(actor=None, name=f"d{n}", parent=root) for n in range(25)]
    for dept in made:
        assert set(dept.subtree()) == {dept}


def test_user_names_are_unique_regardless_of_case(org: Any) -> None:
    with pytest.raises(AccountError):
        actions.create_user(actor=org.admin, username="SALES1", password="pw")


def test_a_user_without_password_cannot_log_in(org: Any) -> None:
    user = actions.create_user(actor=org.admin, username="sso", password=None)
    assert not user.has_usable_password()


def test_ensure_builtin_roles_is_idempotent_and_keeps_edits(org: Any) -> None:
    assert set(Role.objects.values_list("code", flat=True)) >= set(BUILTIN_ROLES)
    viewer = Role.objects.get(code="viewer")
    viewer.permissions = ["contract.view"]
    viewer.save(update_fields=["permissions"])
    count, events = Role.objects.count(), AuditEvent.objects.count()
    roles = actions.ensure_builtin_roles()
    assert set(roles) == set(BUILTIN_ROLES)
    assert Role.objects.count() == count
    assert AuditEvent.objects.count() == events
    assert Role.objects.get(code="viewer").permissions == ["contract.view"]


def test_save_role_refuses_unknown_permissions_and_scopes(org: Any) -> None:
    with pytest.raises(AccountError):
        actions.save_role(
            actor=org.admin, code="x", name="x", permissions=["contract.fly"], data_scope="own"
        )
    with pytest.raises(AccountError):
        actions.save_role(
            actor=org.admin, code="x", name="x", permissions=["contract.view"], data_scope="world"
        )
    assert not Role.objects.filter(code="x").exists()


def test_set_language_refuses_unknown_languages(org: Any) -> None:
    with pytest.raises(AccountError):
        actions.set_language(actor=org.sales1, language="fr")
    org.sales1.refresh_from_db()
    assert org.sales1.language == "zh-hans"


def test_inactive_users_have_no_permission(org: Any) -> None:
    assert org.sales1.has_perm_code("contract.view")
    org.sales1.is_active = False
    assert not org.sales1.has_perm_code("contract.view")


# Demo data -------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_command_loads_the_demo_once(db: Any) -> None:
    out = StringIO()
    call_command("demo", stdout=out)
    assert "200" in out.getvalue()
    counts = (User.objects.count(), Party.objects.count(), Contract.objects.count())
    events = AuditEvent.objects.count()
    assert counts[1:] == (30, 200)
    assert set(User.objects.values_list("username", flat=True)) >= {
        "admin",
        "sales1",
        "sales2",
        "legal",
        "finance",
        "manager",
    }
    assert set(Department.objects.values_list("name", flat=True)) >= {
        "管理层",
        "销售一部",
        "销售二部",
        "法务部",
        "财务部",
    }
    states = set(Contract.objects.values_list("state", flat=True))
    assert states == set(ContractState.values)
    sales1 = User.objects.get(username="sales1")
    sales2 = User.objects.get(username="sales2")
    assert sales1.check_password("qiyue-demo")
    mine = Contract.objects.visible_to(sales1, "view")
    assert mine.exists()
    assert not mine.filter(owner=sales2).exists()
    # One contract in five has its text as a Word document, in English when in dollars.
    from qiyue.demo import DOCUMENT_EVERY
    from qiyue.documents.models import Document

    documents = Document.objects.select_related("contract")
    assert documents.count() == 200 // DOCUMENT_EVERY
    assert {d.contract.currency for d in documents} == {"CNY", "USD"}

    call_command("demo", stdout=StringIO())
    assert (User.objects.count(), Party.objects.count(), Contract.objects.count()) == counts
    assert AuditEvent.objects.count() == events
