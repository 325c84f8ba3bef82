from datetime import date
from decimal import Decimal

from qiyue.review.extraction import detect_language, extract, extract_values

ZH_CONTRACT = """软件服务合同

合同编号：ABC-2025-001

甲方（客户）：上海甲乙科技有限公司
地址：上海市浦东新区某路1号

乙方（服务方）：杭州丙丁软件有限公司
地址：杭州市西湖区某路2号

第一条 服务期限
本合同有效期自2025年3月1日起至2026年2月28日止。有效期届满前30日内任何一方均未书面通知对方不再续约的，本合同自动续期一年。

第二条 费用
2.1 首期款：人民币叁万元整（¥30,000.00）。
2.2 本合同总价款为人民币壹佰贰拾万元整（¥1,200,000.00），为含税价，增值税税率为6%。
2.3 乙方逾期的，按日支付违约金人民币伍佰元（¥500.00）。

第三条 保密
双方对知悉的商业秘密负有保密义务。

第四条 法律适用和争议解决
4.1 本合同适用中华人民共和国法律。
4.2 因本合同引起的争议，双方协商不成的，任何一方可向甲方所在地有管辖权的人民法院提起诉讼。

第五条 其他
本合同自双方签字盖章之日起生效。

甲方（盖章）：上海甲乙科技有限公司
日期：2025年2月20日

乙方（盖章）：杭州丙丁软件有限公司
日期：2025年2月21日
"""

EN_CONTRACT = (
    "MASTER SERVICES AGREEMENT\n\n"
    'This Master Services Agreement (the "Agreement") is entered into as of the 1st day of '
    'March, 2025 (the "Effective Date") by and between Acme Widgets, Inc., a Delaware '
    'corporation ("Acme"), and Blue River Software LLC, a California limited liability '
    'company ("Provider").\n\n'
    "2. Term. The initial term of this Agreement shall commence on the Effective Date and "
    "continue for a period of three (3) years. Thereafter this Agreement shall automatically "
    "renew for successive one (1) year periods unless either party gives written notice of "
    "non-renewal at least sixty (60) days prior to the end of the then-current term.\n\n"
    "9. Governing Law. This Agreement shall be governed by and construed in accordance with "
    "the laws of the State of New York, without regard to its conflict of laws principles. "
    "Each party submits to the exclusive jurisdiction of the state and federal courts located "
    "in New York County, New York.\n"
)


def test_language_is_detected():
    assert detect_language(ZH_CONTRACT) == "zh"
    assert detect_language(EN_CONTRACT) == "en"


def test_chinese_contract_fields_are_proposed():
    values = extract_values(ZH_CONTRACT)
    assert values["contract_number"] == "ABC-2025-001"
    assert values["title"] == "软件服务合同"
    assert values["party_a"] == "上海甲乙科技有限公司"
    assert values["party_b"] == "杭州丙丁软件有限公司"
    # signatures on different days: the later one
    assert values["signing_date"] == "2025-02-21"
    assert values["effective_date"] == "2025-02-21"
    assert values["expiration_date"] == "2026-02-28"
    assert values["total_amount"] == 1200000
    assert values["currency"] == "CNY"
    assert values["tax_rate"] == 6
    assert values["auto_renewal"] is True
    assert values["renewal_term_months"] == 12
    assert values["notice_period_days"] == 30
    assert values["governing_law"] == "中华人民共和国"
    assert values["dispute_resolution"] == "litigation"
    assert values["dispute_venue"] == "甲方所在地有管辖权的人民法院"
    assert values["confidentiality"] is True
    assert values["language"] == "zh"


def test_every_proposal_points_at_its_evidence():
    proposals = extract(ZH_CONTRACT)
    total = proposals["total_amount"]
    assert total.value == Decimal(1200000)
    assert "壹佰贰拾万元整" in ZH_CONTRACT[total.start : total.end]
    assert 0 < total.confidence <= 1
    party = proposals["party_a"]
    assert ZH_CONTRACT[party.start : party.end] == "上海甲乙科技有限公司"


def test_instalments_and_penalties_are_not_the_total():
    text = ZH_CONTRACT.replace("2.2 本合同总价款为人民币壹佰贰拾万元整（¥1,200,000.00），", "2.2 ")
    assert extract_values(text)["total_amount"] is None


def test_arbitration_names_the_institution():
    text = ZH_CONTRACT.replace(
        "任何一方可向甲方所在地有管辖权的人民法院提起诉讼",
        "任何一方均可将争议提交上海国际仲裁中心仲裁",
    )
    values = extract_values(text)
    assert values["dispute_resolution"] == "arbitration"
    assert values["dispute_venue"] == "上海国际仲裁中心"


def test_a_term_given_as_a_duration_ends_the_day_before():
    text = ZH_CONTRACT.replace(
        "本合同有效期自2025年3月1日起至2026年2月28日止。", "本合同有效期为三年，自生效之日起算。"
    )
    assert extract_values(text)["expiration_date"] == "2028-02-20"


def test_a_preamble_citing_the_civil_code_is_not_a_choice_of_law():
    text = ZH_CONTRACT.replace(
        "4.1 本合同适用中华人民共和国法律。", "4.1 依据《中华人民共和国民法典》订立。"
    )
    assert extract_values(text)["governing_law"] is None


def test_missing_terms_stay_empty():
    values = extract_values("甲方：某公司\n乙方：另一公司\n双方友好合作。")
    assert values["total_amount"] is None
    assert values["expiration_date"] is None
    assert values["governing_law"] is None
    assert values["auto_renewal"] is False


def test_english_contract_fields_are_proposed():
    values = extract_values(EN_CONTRACT)
    assert values["title"] == "Master Services Agreement"
    assert values["party_a"] == "Acme Widgets, Inc."
    assert values["party_b"] == "Blue River Software LLC"
    assert values["signing_date"] == "2025-03-01"
    assert values["effective_date"] == "2025-03-01"
    assert values["expiration_date"] == date(2028, 3, 1).isoformat()
    assert values["auto_renewal"] is True
    assert values["renewal_term_months"] == 12
    assert values["notice_period_days"] == 60
    assert values["governing_law"] == "State of New York"
    assert values["dispute_resolution"] == "litigation"
    assert values["dispute_venue"].startswith("state and federal courts located in New York")
    assert values["language"] == "en"


def test_an_english_contract_without_renewal_leaves_renewal_fields_empty():
    text = EN_CONTRACT.split("Thereafter")[0]
    values = extract_values(text)
    assert values["auto_renewal"] is False
    assert values["renewal_term_months"] is None
    assert values["notice_period_days"] is None
