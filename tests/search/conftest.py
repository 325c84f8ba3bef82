"""A small fixed corpus of Chinese and English contracts with documents, indexed the way
production indexes them: through the actions, their after-commit hooks and the jobs."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from qiyue.documents.actions import upload_document
from qiyue.documents.models import DocumentVersion
from tests.api.conftest import api  # noqa: F401  (the API client fixture)
from tests.documents.conftest import keyring  # noqa: F401  (the master key fixture)
from tests.documents.test_documents import docs  # noqa: F401  (blob storage fixture)
from tests.factories import make_contract, make_party

Committed = Callable[[], Any]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """``with committed():`` runs the after-commit hooks (index jobs) at the end of the
    block, as the end of a real transaction would."""

    @contextmanager
    def _committed() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return _committed


@pytest.fixture(params=["set", "per_match"])
def allowed_form(request: Any, monkeypatch: Any) -> Iterator[None]:
    """Runs a test with each form SQLite's search statement gives the allowed contracts:
    a set built once, and a question per match (``SqliteBackend.allowed``). They are
    the same queryset and must allow the same contracts."""
    from qiyue.search import queries
    from qiyue.search.backends import sqlite

    if request.param == "per_match" and connection.vendor != "sqlite":
        pytest.skip("one form on PostgreSQL")
    quick = request.param == "set"
    # A set of no contracts has no "few" matches: the set even for one match.
    monkeypatch.setattr(sqlite, "_set_size", lambda sql, params: 0 if quick else None)
    queries._ALLOWED_SQL.clear()
    yield
    queries._ALLOWED_SQL.clear()


# PostgreSQL's index is one table: only SQLite runs the corpus tests split as well.
_INDEX_LAYOUTS = ["one-table"] if os.environ.get("DATABASE_URL") else ["one-table", "tables-of-2"]


@pytest.fixture(params=_INDEX_LAYOUTS)
def index_tables(request: Any, monkeypatch: Any) -> None:
    """Runs a corpus test with SQLite's index in one FTS5 table and split into tables of
    two contract ids each (decision 0008): searches answer the same either way."""
    if request.param == "one-table":
        return
    from qiyue.search.backends import sqlite

    monkeypatch.setattr(sqlite, "SHARD_ROWS", 2)


def upload_text(
    user: Any, contract: Any, text: str, *, name: str = "正文.txt", **kw: Any
) -> DocumentVersion:
    return upload_document(
        actor=user, contract=contract, fileobj=io.BytesIO(text.encode("utf-8")), name=name, **kw
    )


@pytest.fixture
def corpus(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    committed: Committed,
    index_tables: None,
) -> SimpleNamespace:
    s1, s2 = org.sales1, org.sales2
    with committed():
        xingchen = make_party(s1, name="北京星辰科技有限公司", short_name="星辰")
        acme = make_party(s1, name="Acme Corporation", short_name="Acme")
        c1 = make_contract(s1, party=xingchen, title="设备采购合同", notes="")
        upload_text(
            s1,
            c1,
            "第一条 违约责任\n甲方逾期付款的，应按日支付违约金。\n\f"
            "第二条 本合同适用中华人民共和国法律。",
        )
        c2 = make_contract(s1, title="软件许可协议")
        d2 = upload_text(s1, c2, "乙方应按期缴纳税款。甲方有权解除合同。")
        c3 = make_contract(s1, party=acme, title="Master Services Agreement")
        upload_text(
            s1,
            c3,
            "This Agreement shall automatically renew for successive one-year terms. "
            "The governing law shall be the laws of New York.",
            name="msa.txt",
        )
        c4 = make_contract(s1, title="Non-Disclosure Agreement")
        upload_text(
            s1,
            c4,
            "Confidential information shall not be disclosed. This agreement is governed "
            "by the law of England. Termination upon notice.",
            name="nda.txt",
        )
        c6 = make_contract(
            s1, title="ＡＢＣ公司服务合同", notes="Full-width ＲＥＮＥＷＡＬ clause <b>x</b>"
        )
        c5 = make_contract(s2, title="保密协议")
        upload_text(s2, c5, "外部秘密：违约金 governing law 税 甲方 Acme renew", name="secret.txt")
    return SimpleNamespace(
        c1=c1, c2=c2, c3=c3, c4=c4, c5=c5, c6=c6, d2=d2.document, xingchen=xingchen, acme=acme
    )
