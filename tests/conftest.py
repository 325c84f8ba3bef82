"""Shared fixtures: one small company with every persona the access tests need.

Personas (all with the password ``pw``):
- ``admin``: superuser, role admin
- ``manager``: management, all data, head of 管理层 (the root department)
- ``sales1``: sales in 销售一部 (data scope: own records) — the usual *owner*
- ``colleague``: sales in 销售一部 too — same department, not the owner
- ``head1``: head of 销售一部 (role sales) — sees the department's records
- ``viewer``: read-only role in 销售一部 (data scope: own department)
- ``sales2``: sales in 销售二部 — the *outsider*, must get 404 for sales1's records
- ``legal``, ``finance``: all data, may approve
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test import Client, TransactionTestCase

from qiyue.accounts import actions as account_actions
from qiyue.audit.triggers import purge_allowed
from qiyue.demo import ensure_org

PASSWORD = "pw"


@pytest.fixture
def org(db: Any) -> SimpleNamespace:
    base = ensure_org(password=PASSWORD)
    users, depts, roles = base["users"], base["departments"], base["roles"]
    extra = {}
    for username, role, dept in [
        ("colleague", "sales", "销售一部"),
        ("head1", "sales", "销售一部"),
        ("viewer", "viewer", "销售一部"),
    ]:
        extra[username] = account_actions.create_user(
            actor=None,
            username=username,
            password=PASSWORD,
            department=depts[dept],
            role=roles[role],
        )
    account_actions.set_department_head(
        actor=None, department=depts["销售一部"], head=extra["head1"]
    )
    return SimpleNamespace(**users, **extra, departments=depts, roles=roles, types=base["types"])


@pytest.fixture
def login(client: Client) -> Any:
    """``login(user)`` returns a test client logged in as that user."""

    def _login(user: Any) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return _login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2 at full strength costs ~0.3 s per user; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _jobs_run_eagerly() -> Iterator[None]:
    """Huey jobs (text extraction) run inline, at enqueue time, in every test."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def _search_caches_start_empty() -> None:
    """The search keeps, per process, each visibility key's SQL with the form it chose
    for it (by the contracts there were then) and the text of recent pages. A test
    starts without another test's: the form decides how many statements a search
    costs, which tests pin."""
    from qiyue.search import pagecache, queries

    queries._ALLOWED_SQL.clear()
    pagecache.clear()


@pytest.fixture(scope="session", autouse=True)
def _audit_log_may_be_flushed_between_transactional_tests() -> Iterator[None]:
    """``transaction=True`` tests end with Django's flush (DELETE on SQLite, TRUNCATE on
    PostgreSQL), which the audit log's append-only triggers refuse. Around that flush,
    and only there, the triggers are dropped and put back."""
    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        with ExitStack() as stack:
            for alias in self._databases_names(include_mirrors=False):  # type: ignore[attr-defined]
                stack.enter_context(purge_allowed(connections[alias]))
            original(self)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]
