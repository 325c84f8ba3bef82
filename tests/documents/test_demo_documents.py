"""The demo's contract documents: Word files with the clauses people search for."""

from __future__ import annotations

import io
import random
from datetime import date
from types import SimpleNamespace

import docx
import pytest

from qiyue.demo_documents import contract_docx
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def test_a_contract_in_yuan_reads_in_chinese_with_its_own_terms(org: SimpleNamespace) -> None:
    contract = make_contract(
        org.sales1,
        title="年度软件服务合同",
        type_code="FW",
        tax_rate="6",
        effective_date=date(2026, 1, 1),
        expiry_date=date(2026, 12, 31),
        auto_renew=True,
        renewal_term_months=12,
        notice_period_days=60,
    )
    text = _text(contract_docx(random.Random(1), contract))
    assert contract.number in text and contract.counterparty.name in text
    assert "100,000.00元" in text and "税率6%" in text
    assert "2026年12月31日" in text
    assert "自动续约12个月" in text and "期满前60日" in text
    assert "知识产权" in text and "争议解决" in text


def test_a_contract_in_dollars_reads_in_english_and_clauses_vary(org: SimpleNamespace) -> None:
    contract = make_contract(
        org.sales1,
        currency="USD",
        effective_date=date(2026, 3, 1),
        expiry_date=date(2027, 2, 28),
    )
    texts = {_text(contract_docx(random.Random(seed), contract)) for seed in range(12)}
    for text in texts:
        assert "Governing Law" in text and "USD 100,000.00" in text
        assert "February 28, 2027." in text  # no renewal
    assert any("Indemnification" in t for t in texts)
    assert any("Indemnification" not in t for t in texts)
