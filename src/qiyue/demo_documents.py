"""The demo's contract documents: Word files written from clause texts, uploaded through
``documents.actions.upload_document`` like any other file, so that the demo can be
searched for what is in contracts (违约金, 不可抗力, "governing law"), not only for
titles. Chinese for contracts in yuan, English for those in dollars.

Clauses vary by contract (liquidated damages or none, arbitration or a court, automatic
renewal where the contract renews), so a search finds some contracts and not others."""

from __future__ import annotations

import io
import random
from typing import Any

import docx

from qiyue.contracts.models import Contract
from qiyue.documents.actions import upload_document

OUR_NAME = "契约演示科技有限公司"
OUR_NAME_EN = "Qiyue Demo Technology Co., Ltd."
ARBITRATION = ["上海国际仲裁中心", "中国国际经济贸易仲裁委员会", "北京仲裁委员会"]
COURTS = ["甲方所在地人民法院", "合同签订地人民法院"]


def _percent(rate: Any) -> str:
    return "13" if rate is None else f"{rate.normalize():f}"


def _zh_clauses(rng: random.Random, c: Contract) -> list[tuple[str, str]]:
    amount = f"{c.amount:,.2f}" if c.amount is not None else "按订单确定"
    clauses = [
        (
            "第一条 合同标的",
            f"乙方向甲方提供《{c.title}》所述的产品及服务，具体规格、数量和交付要求以附件"
            "一为准。附件为本合同不可分割的组成部分。",
        ),
        (
            "第二条 合同价款与支付",
            f"本合同总价款为人民币{amount}元（含增值税，税率{_percent(c.tax_rate)}%）。"
            f"支付方式：{c.payment_terms or '验收合格后30日内一次性付清'}。"
            "乙方应在每次收款前开具合法有效的增值税专用发票。",
        ),
        (
            "第三条 合同期限",
            f"本合同自{c.effective_date:%Y年%m月%d日}起生效，至{c.expiry_date:%Y年%m月%d日}止。",
        ),
    ]
    if c.auto_renew:
        clauses.append(
            (
                "第四条 自动续约",
                f"合同期满前{c.notice_period_days or 30}日内，任何一方未书面通知对方终止的，"
                f"本合同自动续约{c.renewal_term_months or 12}个月，续约次数不限。",
            )
        )
    clauses.append(
        (
            "第五条 保密",
            "双方对因履行本合同而知悉的对方商业秘密和保密信息负有保密义务，保密期限为"
            f"本合同终止后{rng.choice([2, 3, 5])}年。未经对方书面同意，不得向任何第三方披露。",
        )
    )
    if c.contract_type.code in {"FW", "KJ"}:
        clauses.append(
            (
                "第六条 知识产权",
                "乙方为履行本合同交付的成果，其知识产权归甲方所有；乙方保证交付成果不侵犯"
                "任何第三方的知识产权，否则由乙方承担全部责任。",
            )
        )
    if rng.random() < 0.7:
        rate = rng.choice(["0.05%", "0.1%", "0.3%"])
        cap = rng.choice(["10%", "20%", "30%"])
        clauses.append(
            (
                "第七条 违约责任",
                f"任何一方逾期履行的，每逾期一日应按合同总价款的{rate}向对方支付违约金，"
                f"违约金总额不超过合同总价款的{cap}。违约金不足以弥补损失的，违约方还应赔偿差额。",
            )
        )
    else:
        clauses.append(
            (
                "第七条 违约责任",
                "任何一方违反本合同约定的，应赔偿由此给对方造成的直接损失。",
            )
        )
    if rng.random() < 0.6:
        clauses.append(
            (
                "第八条 不可抗力",
                "因地震、台风、洪水、战争、疫情等不可抗力致使合同不能履行的，受影响方应在"
                "十五日内书面通知对方并提供证明，双方据此部分或全部免除责任。",
            )
        )
    if rng.random() < 0.5:
        forum = f"提交{rng.choice(ARBITRATION)}按照其届时有效的仲裁规则进行仲裁，仲裁裁决是终局的"
    else:
        forum = f"向{rng.choice(COURTS)}提起诉讼"
    clauses.append(
        (
            "第九条 争议解决",
            "本合同适用中华人民共和国法律。因本合同引起的争议，双方应协商解决；协商不成的，"
            f"任何一方均可{forum}。",
        )
    )
    clauses.append(
        (
            "第十条 其他",
            "本合同一式两份，甲乙双方各执一份，具有同等法律效力。本合同未尽事宜，双方可签订"
            "补充协议。",
        )
    )
    return clauses


def _en_clauses(rng: random.Random, c: Contract) -> list[tuple[str, str]]:
    amount = f"USD {c.amount:,.2f}" if c.amount is not None else "the amounts in each order"
    clauses = [
        (
            "1. Scope",
            "The Supplier shall provide the products and services described in Schedule 1, "
            "which forms an integral part of this Agreement.",
        ),
        (
            "2. Fees and Payment",
            f"The Customer shall pay {amount}, plus applicable taxes, within thirty (30) "
            "days of receipt of a valid invoice.",
        ),
        (
            "3. Term",
            f"This Agreement commences on {c.effective_date:%B %d, %Y} and ends on "
            f"{c.expiry_date:%B %d, %Y}"
            + (
                f", and shall automatically renew for successive periods of "
                f"{c.renewal_term_months or 12} months unless either party gives written "
                f"notice of non-renewal at least {c.notice_period_days or 30} days before "
                "the end of the then-current term."
                if c.auto_renew
                else "."
            ),
        ),
        (
            "4. Confidentiality",
            "Each party shall keep the other party's Confidential Information in "
            "confidence and use it only to perform this Agreement.",
        ),
    ]
    if rng.random() < 0.6:
        clauses.append(
            (
                "5. Indemnification",
                "The Supplier shall indemnify and hold harmless the Customer from any "
                "third-party claim that the deliverables infringe any intellectual "
                "property right.",
            )
        )
    clauses.append(
        (
            "6. Limitation of Liability",
            "Except for breach of confidentiality, neither party's aggregate liability "
            "shall exceed the fees paid in the twelve (12) months before the claim.",
        )
    )
    clauses.append(
        (
            "7. Termination",
            "Either party may terminate this Agreement for material breach not cured "
            "within thirty (30) days after written notice.",
        )
    )
    law = rng.choice(
        [
            ("the People's Republic of China", "the Shanghai International Arbitration Centre"),
            ("Hong Kong", "the Hong Kong International Arbitration Centre"),
            ("Singapore", "the Singapore International Arbitration Centre"),
        ]
    )
    clauses.append(
        (
            "8. Governing Law and Arbitration",
            f"This Agreement is governed by the laws of {law[0]}. Any dispute shall be "
            f"finally resolved by arbitration administered by {law[1]}.",
        )
    )
    return clauses


def contract_docx(rng: random.Random, contract: Contract) -> bytes:
    """The contract's text as a Word file: Chinese, or English for a contract in dollars."""
    english = contract.currency == "USD"
    document = docx.Document()
    document.add_heading(contract.title, level=1)
    if english:
        document.add_paragraph(f"Contract No. {contract.number}")
        document.add_paragraph(f"Customer: {OUR_NAME_EN}")
        document.add_paragraph(f"Supplier: {contract.counterparty.name}")
        clauses = _en_clauses(rng, contract)
    else:
        document.add_paragraph(f"合同编号：{contract.number}")
        document.add_paragraph(f"甲方：{OUR_NAME}")
        document.add_paragraph(f"乙方：{contract.counterparty.name}")
        clauses = _zh_clauses(rng, contract)
    for heading, text in clauses:
        document.add_heading(heading, level=2)
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def attach_demo_document(actor: Any, contract: Contract) -> None:
    """Upload the contract's main document as its owner would, before it moves on. Its
    clauses are drawn from the contract's number, not from the demo's own random
    sequence, so adding documents leaves the rest of the demo as it was."""
    rng = random.Random(contract.number)  # noqa: S311 - repeatable demo text, not secrets
    data = contract_docx(rng, contract)
    upload_document(
        actor=actor,
        contract=contract,
        fileobj=io.BytesIO(data),
        name=f"{contract.number}.docx",
    )
