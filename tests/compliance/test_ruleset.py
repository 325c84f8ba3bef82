"""The ready-made rule set for Chinese sales contracts, as the demo installs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qiyue.compliance import actions, queries
from qiyue.compliance.models import Finding, Rule
from qiyue.compliance.ruleset import SALES_RULES, install_sales_rules
from qiyue.demo import demo_compliance_rules
from tests.factories import make_contract, make_party, valid_credit_code

from .conftest import upload_text

pytestmark = pytest.mark.django_db

GOOD = """销售合同
甲方：北京星辰科技有限公司
第三条 付款方式：甲方在收到发票后30日内支付全部货款。
第八条 违约责任：任何一方违约的，应向对方支付合同总价款10%的违约金。
第九条 保密：双方对本合同内容负有保密义务。
第十条 争议解决：因本合同引起的争议，提交北京仲裁委员会仲裁。
"""

BAD = """销售合同
第三条 付款方式：甲方在收到发票后180日内付款。
第五条 乙方对甲方的全部债务承担无限连带责任。
"""


@pytest.fixture(autouse=True)
def _someone_else_blocklisted(org: Any) -> None:
    # The demo blocklists its newest customer unless the blocklist has entries already.
    actions.add_blocklist_entry(actor=org.admin, data={"name": "别的公司"})


def test_install_is_idempotent(org: Any) -> None:
    install_sales_rules(actor=org.admin)
    install_sales_rules(actor=org.admin)
    assert Rule.objects.count() == len(SALES_RULES)


def test_a_clean_sales_contract_is_low_risk(org: Any, docs: Path) -> None:
    party = make_party(org.sales1, credit_code=valid_credit_code())
    contract = make_contract(
        org.sales1,
        party=party,
        amount="200000",
        expiry_date="2030-12-31",
        payment_terms="收到发票后30日内付款",
        confidentiality="confidential",
    )
    upload_text(org.sales1, contract, GOOD)
    demo_compliance_rules(org.admin)
    assert list(Finding.objects.filter(contract=contract).values_list("code", flat=True)) == []
    assert queries.risk_level(contract) == "low"


def test_a_bad_sales_contract_gets_every_finding(org: Any, docs: Path) -> None:
    contract = make_contract(
        org.sales1, amount="1500000", currency="EUR", auto_renew=True, confidentiality="secret"
    )
    upload_text(org.sales1, contract, BAD)
    demo_compliance_rules(org.admin)
    found = sorted(Finding.objects.filter(contract=contract).values_list("code", flat=True))
    assert found == [
        "amount_over",
        "clause_missing",
        "clause_missing",
        "clause_missing",
        "credit_code_missing",
        "currency",
        "fields_missing",
        "payment_days",
        "prohibited",
        "renewal_no_notice",
    ]
    assert queries.risk_level(contract) == "high"
    assert queries.required_approver_roles(contract) == ["finance"]
    assert queries.approval_blockers(contract)


def test_the_demo_blocklists_one_customer_once(org: Any, docs: Path) -> None:
    from qiyue.compliance.models import BlocklistEntry

    for entry in BlocklistEntry.objects.all():
        actions.remove_blocklist_entry(actor=org.admin, entry=entry)
    contract = make_contract(org.sales1)
    demo_compliance_rules(org.admin)
    demo_compliance_rules(org.admin)
    assert BlocklistEntry.objects.count() == 1
    assert queries.risk_level(contract) == "high"
