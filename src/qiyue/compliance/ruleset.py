"""A ready-made rule set for Chinese sales contracts (销售合同), shipped with the demo and
installable by administrators as a starting point."""

from __future__ import annotations

from typing import Any

from qiyue.accounts.models import User
from qiyue.compliance import actions
from qiyue.compliance.models import Rule
from qiyue.contracts.models import ContractType

#: (name, kind, severity, parameters); ``"sales"`` in parameters limits it to type XS.
SALES_RULES: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "争议解决条款必备",
        "required_clause",
        "high",
        {"keywords": "争议解决\n仲裁\n人民法院", "extracted_field": "dispute_resolution"},
    ),
    ("违约责任条款必备", "required_clause", "high", {"keywords": "违约责任\n违约金"}),
    (
        "保密合同须有保密条款",
        "required_clause",
        "medium",
        {
            "keywords": "保密",
            "extracted_field": "confidentiality",
            "confidentiality_levels": ["confidential", "secret"],
            "all_types": True,
        },
    ),
    (
        "禁止性条款",
        "prohibited_term",
        "high",
        {"keywords": "无限连带责任\n放弃一切抗辩\n不可撤销的连带保证"},
    ),
    (
        "金额超过100万元须财务审批",
        "amount_limit",
        "medium",
        {"amount_limit": "1000000", "approver_role": "finance", "all_types": True},
    ),
    ("付款期限不超过90天", "payment_days", "medium", {"max_days": 90}),
    ("客户统一社会信用代码有效", "credit_code", "medium", {"all_types": True}),
    ("客户不在黑名单", "blocklist", "high", {"all_types": True}),
    ("自动续约须约定通知期", "renewal_notice", "medium", {"all_types": True}),
    (
        "币种限人民币或美元",
        "currency",
        "low",
        {"allowed_currencies": ["CNY", "USD"], "all_types": True},
    ),
    (
        "关键字段必填",
        "required_fields",
        "low",
        {"required_fields": ["amount", "expiry_date", "payment_terms"]},
    ),
]


def install_sales_rules(*, actor: User) -> list[Rule]:
    """Create the rules of :data:`SALES_RULES` that do not exist yet (by name); audited
    like any rule. Does not re-check contracts: the caller does that once."""
    sales = ContractType.objects.filter(code="XS").first()
    existing = set(Rule.objects.values_list("name", flat=True))
    created = []
    for name, kind, severity, params in SALES_RULES:
        if name in existing:
            continue
        data = dict(params)
        all_types = data.pop("all_types", False)
        data.update(name=name, kind=kind, severity=severity)
        if sales is not None and not all_types:
            data["contract_type"] = sales.pk
        created.append(actions.create_rule(actor=actor, data=data, recheck=False))
    return created
