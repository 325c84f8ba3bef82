"""Demo data, made through the actions like any other data.

``ensure_org`` (departments, roles, users, contract types) is also what the test suite
builds its personas from, so the demo and the tests share one picture of a company."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from qiyue.accounts import actions as account_actions
from qiyue.accounts.models import Department, User
from qiyue.approvals.actions import complete_for_tests_and_demo as complete_approval
from qiyue.contracts import actions as contract_actions
from qiyue.contracts.models import Contract, ContractState, ContractType
from qiyue.demo_documents import attach_demo_document
from qiyue.lib.uscc import ALPHABET, check_char
from qiyue.parties import actions as party_actions
from qiyue.parties.models import Party

# One contract in this many gets its text as a Word document (demo_documents).
DOCUMENT_EVERY = 5
DEMO_PASSWORD = "qiyue-demo"  # noqa: S105 - published in the README on purpose

CONTRACT_TYPES = [
    ("XS", "销售合同", "Sales contract", "XS-{year}-{seq:05}"),
    ("FW", "服务合同", "Service agreement", "FW-{year}-{seq:05}"),
    ("CG", "采购合同", "Purchase contract", "CG-{year}-{seq:05}"),
    ("KJ", "框架协议", "Framework agreement", "KJ-{year}-{seq:04}"),
    ("BM", "保密协议", "Non-disclosure agreement", "BM-{year}-{seq:04}"),
    ("BC", "补充协议", "Amendment", "BC-{year}-{seq:04}"),
]

# department name -> parent name
DEPARTMENTS = [
    ("管理层", None),
    ("销售一部", "管理层"),
    ("销售二部", "管理层"),
    ("法务部", "管理层"),
    ("财务部", "管理层"),
]

# username, display name, department, role, heads department
USERS = [
    ("admin", "系统管理员", "管理层", "admin", False),
    ("manager", "王总", "管理层", "manager", True),
    ("sales1", "张伟", "销售一部", "sales", False),
    ("sales2", "李娜", "销售二部", "sales", False),
    ("legal", "赵敏", "法务部", "legal", True),
    ("finance", "陈静", "财务部", "finance", True),
]


@transaction.atomic
def ensure_org(*, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Departments, roles, demo users and contract types; existing rows are kept."""
    roles = account_actions.ensure_builtin_roles()
    depts: dict[str, Department] = {}
    for name, parent in DEPARTMENTS:
        found = Department.objects.filter(name=name).first()
        depts[name] = found or account_actions.create_department(
            actor=None, name=name, parent=depts[parent] if parent else None
        )
    users: dict[str, User] = {}
    for username, display, dept, role, heads in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = account_actions.create_user(
                actor=None,
                username=username,
                password=password,
                display_name=display,
                email=f"{username}@example.com",
                department=depts[dept],
                role=roles[role],
                is_superuser=role == "admin",
            )
        users[username] = user
        if heads and depts[dept].head_id is None:
            account_actions.set_department_head(actor=None, department=depts[dept], head=user)
    types = {}
    for i, (code, name, name_en, pattern) in enumerate(CONTRACT_TYPES):
        types[code], _created = ContractType.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "number_pattern": pattern,
                "sort_order": i,
            },
        )
    return {"roles": roles, "departments": depts, "users": users, "types": types}


CITIES = ["北京", "上海", "深圳", "杭州", "广州", "成都", "南京", "苏州", "武汉", "西安"]
WORDS = ["华信", "云启", "博远", "恒通", "星河", "启明", "中科", "瑞丰", "长风", "鼎盛"]
TRADES = [
    ("科技", "软件和信息技术服务业"),
    ("制造", "制造业"),
    ("物流", "交通运输、仓储和邮政业"),
    ("医疗器械", "医疗器械"),
    ("新能源", "电力、热力生产和供应业"),
    ("商贸", "批发和零售业"),
]
# Titles per contract type, so a 保密协议 reads like one.
TITLES = {
    "XS": ["{p}年度软件许可合同", "{p}设备销售合同", "{p}数据服务销售合同"],
    "FW": ["{p}系统集成服务合同", "{p}运维服务协议", "{p}技术咨询服务合同"],
    "CG": ["{p}设备采购合同", "{p}原材料采购合同"],
    "KJ": ["{p}战略合作框架协议", "{p}年度采购框架协议"],
    "BM": ["{p}保密协议"],
}


def demo_credit_code(rng: random.Random) -> str:
    # 9 = enterprise registered with the administration for industry and commerce,
    # 1 = company; then an administrative division code and an organisation code.
    body = "91" + rng.choice(["110105", "310115", "440300", "330106"])
    body += "".join(rng.choice(ALPHABET[:10] + "ABCDEFGH") for _ in range(9))
    return body + check_char(body)


def load_demo(*, contracts: int = 200, customers: int = 30, seed: int = 20261126) -> dict[str, int]:
    org = ensure_org()
    users, types = org["users"], org["types"]
    sellers = [users["sales1"], users["sales2"]]
    rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not secrets

    parties: list[Party] = list(Party.objects.order_by("id")[:customers])
    i = 0
    while len(parties) < customers and i < customers * 5:
        i += 1
        word, (trade, industry) = rng.choice(WORDS), rng.choice(TRADES)
        city = rng.choice(CITIES)
        name = f"{city}{word}{trade}有限公司"
        if Party.objects.filter(name=name).exists():
            continue
        owner = sellers[len(parties) % 2]
        parties.append(
            party_actions.create_party(
                actor=owner,
                data={
                    "name": name,
                    "short_name": f"{word}{trade}",
                    "credit_code": demo_credit_code(rng),
                    "address": f"{city}市高新区创新路{rng.randint(1, 300)}号",
                    "industry": industry,
                },
            )
        )
        party_actions.add_contact(
            actor=owner,
            party=parties[-1],
            data={
                "name": rng.choice(["刘洋", "周杰", "吴芳", "孙丽", "郑强"]),
                "title": rng.choice(["采购经理", "法务总监", "财务经理"]),
                "phone": f"13{rng.randint(100000000, 999999999)}",
                "email": f"contact{len(parties)}@example.cn",
            },
        )

    demo_workflows(users["admin"])
    if not Contract.objects.exists():
        _demo_contracts(rng, contracts, parties, users, types)
    demo_reminder_rules(users["admin"])
    demo_money(users)
    demo_compliance_rules(users["admin"])
    quiet_demo_mail()
    return {
        "users": User.objects.count(),
        "parties": Party.objects.count(),
        "contracts": Contract.objects.count(),
    }


def quiet_demo_mail() -> None:
    """The demo's history (hundreds of tasks and decisions) stays in the notifications but
    is not e-mailed (the queued e-mail jobs find them already marked sent), and only the
    five newest per user start unread."""
    from django.utils import timezone

    from qiyue.notifications.models import Notification

    now = timezone.now()
    Notification.objects.filter(emailed_at__isnull=True).update(emailed_at=now)
    # the bell starts with each user's five newest, not the demo's whole history
    for user in User.objects.all():
        keep = list(
            Notification.objects.filter(recipient=user)
            .order_by("-id")
            .values_list("id", flat=True)[:5]
        )
        Notification.objects.filter(recipient=user, read_at__isnull=True).exclude(
            id__in=keep
        ).update(read_at=now)


def demo_money(users: dict[str, User]) -> None:
    """Payment plans, a payment and an invoice on a few active demo contracts (once)."""
    from qiyue.obligations import actions as money
    from qiyue.obligations.models import Instalment

    if Instalment.objects.exists():
        return
    today = timezone.localdate()
    active = Contract.objects.filter(
        state=ContractState.ACTIVE, currency="CNY", amount__gt=0
    ).order_by("id")[:8]
    for n, contract in enumerate(active):
        owner = contract.owner
        start = contract.effective_date or today
        money.add_instalment(
            actor=owner,
            contract=contract,
            data={"label": "首付款", "percent": "30", "due_date": start + timedelta(days=30)},
        )
        money.add_instalment(
            actor=owner,
            contract=contract,
            data={"label": "验收款", "percent": "70", "trigger": "acceptance", "offset_days": 30},
        )
        money.add_obligation(
            actor=owner,
            contract=contract,
            data={
                "title": "提交季度服务报告",
                "kind": "report",
                "recurrence": "quarterly",
                "due_date": today + timedelta(days=10 + 7 * n),
            },
        )
        if n % 2 == 0:  # half the contracts paid their down payment, and were invoiced
            assert contract.amount is not None
            down = (contract.amount * Decimal("0.3")).quantize(Decimal("0.01"))
            paid_on = min(today, start + timedelta(days=25))
            money.record_payment(
                actor=users["finance"], contract=contract, amount=down, received_on=paid_on
            )
            money.record_invoice(
                actor=users["finance"],
                contract=contract,
                number=f"{44000000 + contract.pk:08d}",
                amount=down,
                issued_on=paid_on,
                instalment=Instalment.objects.filter(contract=contract, seq=1).first(),
            )


def demo_compliance_rules(admin: User) -> None:
    """The ready-made rule set for Chinese sales contracts, then every demo contract checked."""
    from qiyue.compliance.actions import add_blocklist_entry, check_contract
    from qiyue.compliance.models import BlocklistEntry
    from qiyue.compliance.ruleset import install_sales_rules

    install_sales_rules(actor=admin)
    blocked = Party.objects.order_by("-pk").first()  # one customer to show a high risk
    if blocked is not None and not BlocklistEntry.objects.exists():
        reason = "逾期欠款未结清（演示数据）"
        add_blocklist_entry(actor=admin, data={"name": blocked.name, "reason": reason})
    for contract_id in Contract.objects.order_by("pk").values_list("pk", flat=True):
        check_contract(contract_id)


def demo_reminder_rules(admin: User) -> None:
    """The default reminder rules (expiry and cancel-by 90/60/30/7 days before, payments,
    obligations, one-off reminders) for every contract type."""
    from qiyue.reminders.actions import ensure_default_rules

    ensure_default_rules(actor=admin)


def demo_workflows(admin: User) -> None:
    """The default approval workflow (department head, then legal), a sales workflow
    (management and finance in parallel above ¥500,000, then legal) and the 2026
    public holidays for the SLA arithmetic."""
    from qiyue.approvals.actions import ensure_default_workflow, save_workflow
    from qiyue.approvals.models import Workflow
    from qiyue.workdays.actions import load_builtin

    load_builtin(admin)
    ensure_default_workflow()
    if not Workflow.objects.filter(name="销售合同审批").exists():
        save_workflow(
            actor=admin,
            name="销售合同审批",
            priority=10,
            definition={
                "conditions": {"types": ["XS"]},
                "steps": [
                    {
                        "name": "管理层与财务会签",
                        "approvers": ["role:manager", "role:finance"],
                        "quorum": "all",
                        "sla_days": 2,
                        "condition": "amount_cny > 500000",
                    },
                    {"name": "法务审核", "approvers": ["legal"], "quorum": "any", "sla_days": 2},
                ],
            },
        )


# How the 200 contracts are spread over the lifecycle.
STATE_PLAN = [
    (ContractState.DRAFT, 30),
    (ContractState.IN_REVIEW, 20),
    (ContractState.RETURNED, 8),
    (ContractState.APPROVED, 12),
    (ContractState.SIGNING, 10),
    (ContractState.ACTIVE, 80),
    (ContractState.EXPIRED, 15),
    (ContractState.TERMINATED, 8),
    (ContractState.RENEWED, 7),
    (ContractState.ARCHIVED, 10),
]
PATHS = {
    ContractState.DRAFT: [],
    ContractState.IN_REVIEW: ["submit"],
    ContractState.RETURNED: ["submit", "return"],
    ContractState.APPROVED: ["submit", "approve"],
    ContractState.SIGNING: ["submit", "approve", "start_signing"],
    ContractState.ACTIVE: ["submit", "approve", "mark_signed"],
    ContractState.EXPIRED: ["submit", "approve", "mark_signed", "expire"],
    ContractState.TERMINATED: ["submit", "approve", "mark_signed", "terminate"],
    ContractState.RENEWED: ["submit", "approve", "mark_signed", "renew"],
    ContractState.ARCHIVED: ["submit", "approve", "mark_signed", "expire", "archive"],
}


def _demo_contracts(
    rng: random.Random,
    count: int,
    parties: list[Party],
    users: dict[str, User],
    types: dict[str, ContractType],
) -> None:
    today = timezone.localdate()
    plan = [state for state, n in STATE_PLAN for _ in range(n)]
    plan = (plan * (count // len(plan) + 1))[:count]
    rng.shuffle(plan)
    codes = ["XS", "XS", "XS", "FW", "FW", "CG", "KJ", "BM"]
    for n, state in enumerate(plan):
        party = rng.choice(parties)
        owner = party.owner
        code = rng.choice(codes)
        amount = Decimal(rng.choice([5, 8, 12, 30, 50, 80, 120, 260, 500, 1200])) * 10_000
        ended = state in {
            ContractState.EXPIRED,
            ContractState.RENEWED,
            ContractState.ARCHIVED,
        }
        if ended:
            effective = today - timedelta(days=rng.randint(400, 1100))
            expiry = effective + timedelta(days=365)
        else:
            effective = today - timedelta(days=rng.randint(0, 330))
            # Put a share of live contracts inside the 30/60/90-day reminder windows.
            ahead = rng.choice([12, 25, 45, 75, 88, 150, 240, 400, 700])
            expiry = today + timedelta(days=ahead)
        data: dict[str, Any] = {
            "title": rng.choice(TITLES[code]).format(p=party.short_name or party.name),
            "contract_type": types[code].pk,
            "counterparty": party.pk,
            "amount": amount,
            "currency": "CNY" if n % 12 else "USD",
            "tax_rate": rng.choice(["6", "9", "13"]),
            "effective_date": effective,
            "expiry_date": expiry,
            "auto_renew": rng.random() < 0.4,
            "notice_period_days": rng.choice([None, 30, 60, 90]),
            "payment_terms": rng.choice(
                [
                    "合同签订后30日内支付50%，验收后支付50%",
                    "按季度预付",
                    "验收合格后60日内一次性付清",
                ]
            ),
            "confidentiality": rng.choice(["internal", "internal", "confidential", "public"]),
            "tags": rng.sample(
                ["战略客户", "续约", "重点项目", "政府", "海外"], k=rng.randint(0, 2)
            ),
        }
        if data["auto_renew"]:
            data["renewal_term_months"] = 12
        contract = contract_actions.create_contract(actor=owner, data=data)
        if n % DOCUMENT_EVERY == 0:
            attach_demo_document(owner, contract)
        for step in PATHS[state]:
            if step in {"approve", "return"}:  # the approvers decide on their tasks
                outcome = "approved" if step == "approve" else "returned"
                contract = complete_approval(contract, outcome=outcome)
                continue
            actor = {
                "submit": owner,
                "return": users["legal"],
                "approve": users["manager"],
                "start_signing": owner,
                "mark_signed": owner,
                "expire": users["manager"],
                "terminate": users["manager"],
                "renew": users["manager"],
                "archive": users["manager"],
            }[step]
            contract = contract_actions.transition_contract(
                actor=actor,
                contract=contract,
                code=step,
                comment="演示数据" if step in {"return", "terminate"} else "",
                signed_date=min(effective, today) if step == "mark_signed" else None,
            )
