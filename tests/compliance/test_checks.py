"""Each kind of compliance rule raises its finding where it should and stays silent where
it should not; the risk level is the gravest severity found."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from qiyue.compliance import actions
from qiyue.compliance.models import ContractRisk, Finding
from qiyue.parties.models import Party
from tests.factories import make_contract, make_party, valid_credit_code

from .conftest import upload_text

pytestmark = pytest.mark.django_db


def codes(contract: Any) -> list[str]:
    actions.check_contract(contract.pk)
    return sorted(Finding.objects.filter(contract=contract).values_list("code", flat=True))


@pytest.fixture
def contract(org: Any, docs: Path) -> Any:
    party = make_party(org.sales1, credit_code=valid_credit_code())
    return make_contract(org.sales1, party=party, amount="500000.00")


def test_required_clause_by_keyword_fires_when_the_text_lacks_it(
    org: Any, contract: Any, make_rule: Any
) -> None:
    make_rule("required_clause", keywords="违约责任\n违约金", severity="high")
    upload_text(org.sales1, contract, "第一条 标的\n乙方提供软件。")
    assert codes(contract) == ["clause_missing"]
    risk = ContractRisk.objects.get(contract=contract)
    assert risk.level == "high"


def test_required_clause_by_keyword_is_silent_when_present(
    org: Any, contract: Any, make_rule: Any
) -> None:
    make_rule("required_clause", keywords="违约责任")
    upload_text(org.sales1, contract, "第八条 违约责任\n逾期付款的，按日支付违约金。")
    assert codes(contract) == []
    assert ContractRisk.objects.get(contract=contract).level == "low"


def test_required_clause_is_not_checked_without_any_text(contract: Any, make_rule: Any) -> None:
    make_rule("required_clause", keywords="违约责任")
    assert codes(contract) == []


def test_required_clause_by_extracted_field(org: Any, contract: Any, make_rule: Any) -> None:
    make_rule("required_clause", extracted_field="dispute_resolution")
    upload_text(org.sales1, contract, "第一条 标的\n乙方提供软件。")
    assert codes(contract) == ["clause_missing"]
    upload_text(
        org.sales1,
        contract,
        "第十条 争议解决\n因本合同引起的争议，提交北京仲裁委员会仲裁。",
        name="补充.txt",
    )
    assert codes(contract) == []


def test_required_clause_by_pattern(org: Any, contract: Any, make_rule: Any) -> None:
    make_rule("required_clause", pattern=r"保密(条款|义务)")
    upload_text(org.sales1, contract, "双方均负有保密义务。")
    assert codes(contract) == []


def test_required_clause_only_for_confidential_contracts(
    org: Any, docs: Path, make_rule: Any
) -> None:
    make_rule("required_clause", keywords="保密", confidentiality_levels=["confidential"])
    public = make_contract(org.sales1, confidentiality="internal")
    secret = make_contract(org.sales1, confidentiality="confidential")
    for c in (public, secret):
        upload_text(org.sales1, c, "第一条 标的")
    assert codes(public) == []
    assert codes(secret) == ["clause_missing"]


def test_prohibited_term_found_with_evidence_and_span(
    org: Any, contract: Any, make_rule: Any
) -> None:
    make_rule("prohibited_term", keywords="无限连带责任", severity="high")
    text = "第一条 标的\n第二条 甲方对乙方的全部债务承担无限连带责任。"
    version = upload_text(org.sales1, contract, text)
    assert codes(contract) == ["prohibited"]
    finding = Finding.objects.get(contract=contract)
    assert text[finding.start : finding.end] == "无限连带责任"
    assert "无限连带责任" in finding.evidence
    assert finding.document_version_id == version.pk
    assert finding.severity == "high"


def test_prohibited_term_silent_when_absent(org: Any, contract: Any, make_rule: Any) -> None:
    make_rule("prohibited_term", keywords="无限连带责任", pattern=r"不可撤销的?担保")
    upload_text(org.sales1, contract, "乙方承担有限责任。")
    assert codes(contract) == []


def test_prohibited_pattern_found(org: Any, contract: Any, make_rule: Any) -> None:
    make_rule("prohibited_term", pattern=r"不可撤销的?担保")
    upload_text(org.sales1, contract, "丙方提供不可撤销担保。")
    assert codes(contract) == ["prohibited"]


def test_amount_above_limit_needs_the_named_role(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("amount_limit", amount_limit="1000000", approver_role="finance")
    big = make_contract(org.sales1, amount="1500000.00")
    small = make_contract(org.sales1, amount="1000000.00")
    assert codes(big) == ["amount_over"]
    assert codes(small) == []


def test_amount_limit_per_contract_type(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule(
        "amount_limit",
        amount_limit="1000",
        approver_role="finance",
        contract_type=org.types["FW"].pk,
    )
    sale = make_contract(org.sales1, amount="1500000.00")
    service = make_contract(org.sales1, amount="1500000.00", type_code="FW")
    assert codes(sale) == []
    assert codes(service) == ["amount_over"]


def test_payment_terms_longer_than_allowed(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("payment_days", max_days=90)
    slow = make_contract(org.sales1, payment_terms="甲方在收到发票后120日内付款。")
    fast = make_contract(org.sales1, payment_terms="甲方在收到发票后30日内付款。")
    terse = make_contract(org.sales1, payment_terms="验收合格后120天内")
    assert codes(slow) == ["payment_days"]
    assert codes(terse) == ["payment_days"]
    assert Finding.objects.get(contract=slow).params == {"days": 120, "max": 90}
    assert codes(fast) == []


def test_payment_terms_in_the_text_and_in_english(org: Any, contract: Any, make_rule: Any) -> None:
    make_rule("payment_days", max_days=90)
    upload_text(
        org.sales1,
        contract,
        "Customer shall pay each invoice within one hundred twenty (120) days after receipt.",
        name="terms.txt",
    )
    assert codes(contract) == ["payment_days"]


def test_payment_terms_ignore_durations_that_are_not_payment_periods(
    org: Any, contract: Any, make_rule: Any
) -> None:
    make_rule("payment_days", max_days=90)
    upload_text(
        org.sales1,
        contract,
        "乙方应自本合同生效之日起120日内完成上线。甲方应于验收后10个工作日内支付尾款。"
        "乙方的赔偿责任不超过违约事件发生前12个月内甲方实际支付的费用总额。",
    )
    assert codes(contract) == []


def test_required_fields_missing(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("required_fields", required_fields=["expiry_date", "payment_terms", "document"])
    c = make_contract(org.sales1)
    assert codes(c) == ["fields_missing"]
    assert Finding.objects.get(contract=c).params["fields"] == [
        "expiry_date",
        "payment_terms",
        "document",
    ]
    full = make_contract(org.sales1, expiry_date="2030-01-01", payment_terms="验收后30日内付款")
    upload_text(org.sales1, full, "合同正文")
    assert codes(full) == []


def test_blocklisted_counterparty_by_credit_code_and_by_name(
    org: Any, docs: Path, make_rule: Any
) -> None:
    make_rule("blocklist", severity="high")
    code = valid_credit_code()
    by_code = make_contract(org.sales1, party=make_party(org.sales1, credit_code=code))
    by_name = make_contract(org.sales1, party=make_party(org.sales1, name="黑名单（北京）有限公司"))
    clean = make_contract(org.sales1)
    actions.add_blocklist_entry(actor=org.admin, data={"credit_code": code, "reason": "欠款"})
    actions.add_blocklist_entry(actor=org.admin, data={"name": "黑名单(北京)有限公司"})
    assert codes(by_code) == ["blocklisted"]
    assert codes(by_name) == ["blocklisted"]
    assert codes(clean) == []


def test_invalid_or_missing_credit_code(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("credit_code")
    good = make_contract(org.sales1, party=make_party(org.sales1, credit_code=valid_credit_code()))
    foreign = make_contract(org.sales1, party=make_party(org.sales1, foreign_registration="DE-1"))
    missing = make_contract(org.sales1)
    bad_party = make_party(org.sales1)
    # A code that never went through the customer form (e.g. an old import).
    Party.objects.filter(pk=bad_party.pk).update(credit_code="911101050000000000")
    bad = make_contract(org.sales1, party=bad_party)
    assert codes(good) == []
    assert codes(foreign) == []
    assert codes(missing) == ["credit_code_missing"]
    assert codes(bad) == ["credit_code_invalid"]


def test_auto_renewal_without_notice_period(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("renewal_notice")
    bare = make_contract(org.sales1, auto_renew=True)
    noticed = make_contract(org.sales1, auto_renew=True, notice_period_days=30)
    fixed = make_contract(org.sales1, auto_renew=False)
    assert codes(bare) == ["renewal_no_notice"]
    assert codes(noticed) == []
    assert codes(fixed) == []


def test_currency_outside_the_allowed_list(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("currency", allowed_currencies=["CNY", "USD"])
    assert codes(make_contract(org.sales1, currency="EUR")) == ["currency"]
    assert codes(make_contract(org.sales1, currency="USD")) == []


def test_disabled_rules_are_not_checked(org: Any, docs: Path, make_rule: Any) -> None:
    rule = make_rule("currency", allowed_currencies=["CNY"])
    actions.set_rule_enabled(actor=org.admin, rule=rule, enabled=False, version=rule.version)
    assert codes(make_contract(org.sales1, currency="EUR")) == []


def test_risk_is_the_gravest_severity(org: Any, docs: Path, make_rule: Any) -> None:
    make_rule("currency", allowed_currencies=["CNY"], severity="low")
    make_rule("renewal_notice", severity="medium")
    c = make_contract(org.sales1, currency="EUR", auto_renew=True)
    assert codes(c) == ["currency", "renewal_no_notice"]
    assert ContractRisk.objects.get(contract=c).level == "medium"


def test_check_of_a_deleted_contract_does_nothing() -> None:
    assert actions.check_contract(987654) is None


def test_findings_messages_are_readable(org: Any, docs: Path, make_rule: Any) -> None:
    from django.utils import translation

    make_rule("amount_limit", amount_limit="1000000", approver_role="finance")
    c = make_contract(org.sales1, amount="1500000.00")
    actions.check_contract(c.pk)
    finding = Finding.objects.get(contract=c)
    with translation.override("en"):
        assert finding.message == (
            "Amount ¥1,500,000.00 is above the limit of ¥1,000,000.00: needs approval by Finance."
        )
    assert Decimal("1500000.00") == c.amount
