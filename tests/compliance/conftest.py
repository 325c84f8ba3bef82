"""Fixtures of the compliance tests: blob storage for documents, committed hooks, and a
helper that makes a rule through the action."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qiyue.compliance import actions
from qiyue.compliance.models import Rule
from qiyue.documents.actions import extract_version, upload_document
from qiyue.documents.models import DocumentVersion
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.documents.conftest import keyring  # noqa: F401  (the master key fixture)
from tests.documents.test_documents import docs  # noqa: F401  (blob storage fixture)
from tests.factories import make_contract


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed():`` runs the after-commit hooks (check jobs) at the end."""

    @contextmanager
    def _committed() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return _committed


def upload_text(
    user: Any, contract: Any, text: str, *, name: str = "正文.txt", **kw: Any
) -> DocumentVersion:
    """Upload ``text`` as a document and extract its text at once (the job would)."""
    version = upload_document(
        actor=user, contract=contract, fileobj=io.BytesIO(text.encode("utf-8")), name=name, **kw
    )
    extract_version(version.pk)
    return version


@pytest.fixture
def make_rule(org: Any) -> Callable[..., Rule]:
    def _make(kind: str, **data: Any) -> Rule:
        data.setdefault("name", f"rule {kind}")
        data.setdefault("severity", "medium")
        return actions.create_rule(actor=org.admin, data={"kind": kind, **data})

    return _make


@pytest.fixture
def currency_rule(org: Any) -> Rule:
    """A high-severity rule that allows only CNY."""
    return actions.create_rule(
        actor=org.admin,
        data={
            "name": "币种",
            "kind": "currency",
            "allowed_currencies": ["CNY"],
            "severity": "high",
        },
    )


@pytest.fixture
def risky(org: Any, docs: Path, currency_rule: Rule) -> Any:  # noqa: F811  (the imported fixture)
    """The owner's contract in EUR, checked against :func:`currency_rule`: high risk."""
    contract = make_contract(org.sales1, currency="EUR")
    actions.check_contract(contract.pk)
    return contract
