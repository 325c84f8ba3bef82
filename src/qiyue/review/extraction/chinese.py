"""Rules for Chinese contracts: 甲方/乙方 blocks, 合同编号, 生效, 期限, 价款, 争议解决."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from qiyue.lib.cn_numerals import CN_NUMERAL_CHARS, parse_amount
from qiyue.lib.dates import DateMatch, add_term, find_dates
from qiyue.lib.durations import Duration, find_durations
from qiyue.review.extraction.base import Proposal, Proposals, clause_around

__all__ = ["extract_zh"]

_ROLES_A = "甲方|买方|委托方|委托人|出卖人|许可方|出租方|采购方|需方|发包方|转让方|订购方|发包人"
_ROLES_B = "乙方|卖方|受托方|受托人|买受人|被许可方|承租方|供应方|供货方|供方|承包方|受让方|承包人"
_PARTY_LINE = re.compile(
    rf"^[ \t　]*(?P<role>{_ROLES_A}|{_ROLES_B})[ \t　]*(?:名称|全称)?[ \t　]*"
    r"(?:[（(](?P<alias>[^）)\n]{1,12})[)）])?"
    r"[ \t　]*(?:[（(][^）)\n]{0,8}[)）])?[ \t　]*[:：][ \t　]*(?P<name>[^\n]+)$",
    re.MULTILINE,
)
_NAME_CUT = re.compile(
    r"[（(](?:盖章|签章|签字|公章|以下|简称)|[，,；;。]|[ \t　]{2,}|\s(?:地址|住所)"
)


def _clean_name(raw: str) -> str:
    name = _NAME_CUT.split(raw, 1)[0].strip(" \t　")
    return name


def _parties(text: str) -> tuple[Proposal | None, Proposal | None]:
    head = text[: max(3000, len(text) // 3)]
    a: Proposal | None = None
    b: Proposal | None = None
    for m in _PARTY_LINE.finditer(head):
        name = _clean_name(m.group("name"))
        if not (2 <= len(name) <= 60) or re.search(r"[:：]", name):
            continue
        role, alias = m.group("role"), m.group("alias") or ""
        is_a = "甲方" in (role + alias) or (re.fullmatch(_ROLES_A, role) and "乙方" not in alias)
        start = m.start("name")
        proposal = Proposal(name, 0.9, start, start + len(name))
        if is_a and a is None:
            a = proposal
        elif not is_a and b is None:
            b = proposal
        if a and b:
            break
    return a, b


_NUMBER = re.compile(
    r"(?<!原)(?:合同|协议|订单)?(?:编号|编码|合同号|协议号)[ \t　]*[:：][ \t　]*"
    r"(?P<no>[A-Za-z0-9][A-Za-z0-9\-_/.#（）()]*[A-Za-z0-9）)])"
)


def _number(text: str) -> Proposal | None:
    for m in _NUMBER.finditer(text[:2000]):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if "原" in text[line_start : m.start()]:
            continue
        return Proposal(m.group("no"), 0.9, m.start("no"), m.end("no"))
    return None


def _title(text: str) -> Proposal | None:
    offset = 0
    for line in text.splitlines()[:5]:
        stripped = line.strip()
        if stripped:
            if len(stripped) <= 40 and re.search(
                r"(合同|协议|协议书|合同书|订单|确认书)(?:[（(][^）)]+[)）])?$", stripped
            ):
                start = text.find(stripped, offset)
                end = start + len(stripped)
                sub = re.match(r"\s*\n[ \t　]*([（(][^）)\n]{2,30}[)）])[ \t　]*\n", text[end:])
                if sub:
                    stripped += sub.group(1)
                    end += sub.end(1)
                return Proposal(stripped, 0.85, start, end)
            return None
        offset += len(line) + 1
    return None


def _sig_dates(text: str) -> list[DateMatch]:
    """Dates in the signature block at the end (after the last article)."""
    tail_start = max(0, len(text) - 800)
    out = []
    for d in find_dates(text[tail_start:]):
        before = text[tail_start + max(0, d.start - 12) : tail_start + d.start]
        if re.search(r"(签订|签署|签约|签字)?(日期|时间)[ \t　]*[:：]?[ \t　]*$", before):
            out.append(DateMatch(d.value, d.start + tail_start, d.end + tail_start))
    return out


def _signing_date(text: str) -> Proposal | None:
    sig = _sig_dates(text)
    if sig:
        latest = max(sig, key=lambda d: d.value)
        return Proposal(latest.value, 0.85, latest.start, latest.end)
    m = re.search(r"(?:签订|签署|签约)(?:日期|时间)[ \t　]*[:：][ \t　]*", text[:3000])
    if m:
        dates = find_dates(text[m.end() : m.end() + 30])
        if dates and dates[0].start == 0:
            d = dates[0]
            return Proposal(d.value, 0.85, m.end() + d.start, m.end() + d.end)
    m = re.search(r"于\s*(\S{6,14}?[日号])\s*(?:在\S{0,20})?签(?:订|署)", text[:3000])
    if m:
        dates = find_dates(m.group(1))
        if dates:
            return Proposal(dates[0].value, 0.7, m.start(1), m.end(1))
    return None


_TERM_WORDS = r"有效期|期限|服务期|租赁期|租期|订阅期|合同期|协议期|延长期|服务期限"


def _term(text: str) -> tuple[Proposal | None, Proposal | None, DateMatch | None]:
    """(term start, term end) from 自A起至B止 or 有效期为N年 clauses."""
    for m in re.finditer(rf"(?:{_TERM_WORDS})", text):
        s, e = clause_around(text, m.start(), m.end(), limit=150)
        sentence = text[s:e]
        if re.search(r"免租|保密义务|质保|保修|试运行|付款|支付|续租|届满前", sentence):
            continue
        if re.search(r"原合同|主合同|原协议", sentence) and not re.search(
            r"延长|延期|变更为|修改为", sentence
        ):
            continue
        dates = [DateMatch(d.value, d.start + s, d.end + s) for d in find_dates(sentence)]
        rng = re.search(r"自(.{6,20}?)(?:起)?\s*(?:至|到)(.{6,20}?)(?:止|$|[，,。；])", sentence)
        if rng and len(dates) >= 2:
            start_d = dates[0]
            end_d = next((d for d in dates if d.start >= s + rng.start(2)), dates[-1])
            return (
                Proposal(start_d.value, 0.8, start_d.start, start_d.end),
                Proposal(end_d.value, 0.85, end_d.start, end_d.end),
                start_d,
            )
        until = re.search(r"(?:有效期|期限)\S{0,4}至(.{6,20}?)(?:止|$|[，,。；])", sentence)
        if until and dates:
            end_d = dates[-1]
            return None, Proposal(end_d.value, 0.8, end_d.start, end_d.end), None
        dur = re.search(
            rf"(?:有效期|期限)[为是:：]?\s*([0-9{CN_NUMERAL_CHARS}]+\s*(?:个)?(?:年|月))", sentence
        )
        if dur:
            found = find_durations(dur.group(1))
            if found and found[0].months:
                duration = found[0]
                if dates:
                    start_d = dates[0]
                    end = add_term(start_d.value, months=duration.months or 0)
                    return (
                        Proposal(start_d.value, 0.7, start_d.start, start_d.end),
                        Proposal(end, 0.7, s + dur.start(1), s + dur.end(1)),
                        start_d,
                    )
                return None, Proposal(duration, 0.5, s + dur.start(1), s + dur.end(1)), None
    return None, None, None


def _effective(text: str, signing: Proposal | None, term_start: Proposal | None) -> Proposal | None:
    for m in re.finditer(r"生效", text):
        s, _e = clause_around(text, m.start(), m.end(), limit=120)
        sentence = text[s : m.end()]
        if re.search(
            r"解除生效|终止生效|变更生效|生效后|生效之日起\d|自本合同生效|自本协议生效", sentence
        ):
            continue
        if not re.search(r"本(?:补充)?(?:合同|协议)", sentence):
            continue
        dates = find_dates(sentence)
        if dates:
            d = dates[-1]
            return Proposal(d.value, 0.8, s + d.start, s + d.end)
        if re.search(r"起始日|开始日|服务期.{0,4}首日|起租日", sentence) and term_start:
            return Proposal(term_start.value, 0.7, term_start.start, term_start.end)
        if re.search(r"签字|签署|盖章|签章|签订|签字盖章", sentence) and signing:
            return Proposal(signing.value, 0.75, s, m.end())
    return None


_AMOUNT = re.compile(
    rf"(?:人民币|RMB|CNY)?\s*(?P<cap>[{CN_NUMERAL_CHARS}]+(?:元|圆)(?:[{CN_NUMERAL_CHARS}]角)?"
    rf"(?:[{CN_NUMERAL_CHARS}]分)?整?)\s*[（(]\s*[¥￥]?\s*(?P<fig>[\d,]+(?:\.\d+)?)\s*(?:元)?[)）]"
    r"|(?:人民币|RMB|CNY)\s*(?P<fig2>[\d,]+(?:\.\d+)?)\s*(?P<unit2>万|亿)?\s*元?"
    r"|[¥￥]\s*(?P<fig3>[\d,]+(?:\.\d+)?)\s*(?P<unit3>万|亿)?"
    r"|(?P<fig4>[\d,]+(?:\.\d+)?)\s*(?P<unit4>万|亿)?元"
)
_TOTAL_WORDS = re.compile(
    r"合同总价|总价款|总金额|合同价款|合同总额|合同金额|费用合计|费用总额|合计价款|价款合计|总价为|总计|"
    r"租金总额|服务费总额|合同价格|总费用|合计为|合计金额|签约合同价|含税总价|总价[:：]"
)
_NOT_TOTAL = re.compile(
    r"押金|保证金|违约金|定金|订金|保函|首期|预付款|首付|质保金|每季度|每月|每年|每坐席|单价|小计|"
    r"不含税|赔偿|逾期|上限|不超过|预算|估算|预计|参考|%|％"
)


def _amounts(text: str) -> list[tuple[Decimal, int, int]]:
    out = []
    for m in _AMOUNT.finditer(text):
        value: Decimal | None
        if m.group("cap"):
            value = parse_amount(m.group("fig"))
        else:
            fig = m.group("fig2") or m.group("fig3") or m.group("fig4")
            unit = m.group("unit2") or m.group("unit3") or m.group("unit4") or ""
            value = parse_amount(fig + unit)
        if value is not None and value > 0:
            out.append((value, m.start(), m.end()))
    return out


def _total(text: str) -> Proposal | None:
    best: tuple[float, Proposal] | None = None
    for value, start, end in _amounts(text):
        line_start = max(text.rfind("\n", 0, start) + 1, start - 60)
        before = text[line_start:start]
        clause_start = max(before.rfind("，"), before.rfind(","), before.rfind("；"))
        near = before[clause_start + 1 :] if clause_start >= 0 else before
        if not _TOTAL_WORDS.search(near) and not _TOTAL_WORDS.search(before[-25:]):
            continue
        real_start = text.rfind("\n", 0, start) + 1
        if _NOT_TOTAL.search(near) or re.search(r"原合同|主合同|原协议", text[real_start:end]):
            continue
        score = 0.8 if m_strong(near) else 0.6
        if best is None or score > best[0]:
            best = (score, Proposal(value, score, start, end))
    return best[1] if best else None


def m_strong(near: str) -> bool:
    return bool(re.search(r"总价款|合同总价|总金额|合同总额|合计为|总额为|费用合计", near))


def _priced(text: str) -> bool:
    """Whether some line states a price (unit prices of a framework deal count)."""
    for _value, start, _end in _amounts(text):
        if not re.search(r"违约金|赔偿|保证金|押金|罚款|保函", text[max(0, start - 20) : start]):
            return True
    return False


def _tax_rate(text: str) -> Proposal | None:
    m = re.search(r"税率\D{0,6}?(\d+(?:\.\d+)?)\s*[%％]", text) or re.search(
        r"(\d+(?:\.\d+)?)\s*[%％][的]?增值税", text
    )
    if not m:
        return None
    rate = Decimal(m.group(1))
    return Proposal(rate, 0.85, m.start(1), m.end(1))


def _renewal(text: str) -> tuple[Proposal, Proposal | None, Proposal | None]:
    for m in re.finditer(r"自动(?:续期|续约|续展|延续|延长|顺延|续订)", text):
        s, e = clause_around(text, m.start(), m.end(), limit=200)
        sentence = text[s:e]
        if re.search(
            r"不(?:得|会|再|予)?自动|并非自动|不适用自动", text[max(s, m.start() - 6) : m.end()]
        ):
            continue
        auto = Proposal(True, 0.85, m.start(), m.end())
        term: Proposal | None = None
        after = [d for d in find_durations(text[m.end() : e]) if d.months]
        if after:
            d = after[0]
            term = Proposal(d.months, 0.8, m.end() + d.start, m.end() + d.end)
        notice: Proposal | None = None
        for d in find_durations(sentence):
            if d.unit in ("day", "month") and s + d.start < m.start():
                ctx = sentence[max(0, d.start - 12) : d.end + 25]
                if re.search(r"前|提前|通知|异议", ctx):
                    notice = Proposal(d.days, 0.75, s + d.start, s + d.end)
                    break
        return auto, term, notice
    return Proposal(False, 0.6, 0, 0), None, None


def _termination_notice(text: str) -> Proposal | None:
    for m in re.finditer(
        rf"提前\s*([0-9{CN_NUMERAL_CHARS}]+\s*(?:[（(]\d+[)）])?\s*(?:个)?(?:工作日|日|天|月|个月))"
        r"(?:以)?书面(?:形式)?(?:通知|告知)",
        text,
    ):
        s, e = clause_around(text, m.start(), m.end(), limit=120)
        sentence = text[s:e]
        if not re.search(r"解除|终止|退租|退出", sentence):
            continue
        if re.search(r"违约|纠正|不可抗力|逾期|更换|调价|价格|维护|涨价", sentence):
            continue
        found = find_durations(m.group(1))
        if found:
            return Proposal(found[0].days, 0.7, m.start(1), m.end(1))
    return None


def _law(text: str) -> Proposal | None:
    m = re.search(r"适用(?:于)?\s*(中华人民共和国|中国)(?:\S{0,6})?法律", text) or re.search(
        r"(?:受|依照|按照)\s*(中华人民共和国|中国)(?:大陆)?(?:地区)?(?:现行)?法律\S{0,4}?(?:管辖|解释)",
        text,
    )
    if not m:
        return None
    before = text[max(0, m.start() - 40) : m.start()]
    if "依据" in before or "根据" in before:
        return None
    return Proposal("中华人民共和国", 0.85, m.start(1), m.end(1))


_ARB = re.compile(
    r"(?:提交|提请|申请|交由|向|由)\s*(?P<v>[^，,。；;、\s]{2,30}?(?:仲裁委员会|仲裁中心|仲裁院|CIETAC))"
)
_COURT = re.compile(r"(?:向|由|提交(?:至|给)?|归)\s*(?P<v>[^，,。；;、\s]{0,30}?人民法院)")


def _dispute(text: str) -> tuple[Proposal | None, Proposal | None]:
    for m in re.finditer(r"争议|纠纷", text):
        s = text.rfind("\n", 0, m.start()) + 1
        e = text.find("\n", m.end())
        e = len(text) if e < 0 else e
        sentence = text[s:e]
        arb = _ARB.search(sentence)
        court = _COURT.search(sentence)
        if arb and (not court or arb.start() < court.start()):
            return (
                Proposal("arbitration", 0.85, s + arb.start("v"), s + arb.end("v")),
                Proposal(arb.group("v"), 0.8, s + arb.start("v"), s + arb.end("v")),
            )
        if court:
            return (
                Proposal("litigation", 0.85, s + court.start("v"), s + court.end("v")),
                Proposal(court.group("v"), 0.75, s + court.start("v"), s + court.end("v")),
            )
    return None, None


def _confidentiality(text: str) -> Proposal:
    m = re.search(r"^[^\n]{0,12}(?:保密)[^\n]{0,10}$", text, re.MULTILINE) or re.search(
        r"保密义务|保密责任|予以保密|负有保密", text
    )
    if m:
        return Proposal(True, 0.8, m.start(), m.end())
    return Proposal(False, 0.6, 0, 0)


def _payment_schedule(text: str, total: Proposal | None) -> Proposal | None:
    items = []
    first = None
    last = 0
    for m in re.finditer(
        r"^[ \t　]*(?:[（(][0-9一二三四五六七八九十]+[)）]|\d+[.、]|[一二三四五六七八九十]+、)\s*"
        r"(?P<desc>[^：:\n]{2,12})[：:](?P<rest>[^\n]*(?:支付|付款)[^\n]*)$",
        text,
        re.MULTILINE,
    ):
        rest = m.group("rest")
        if re.search(r"押金|保证金|保函", m.group("desc")):
            continue
        pct = re.search(r"(\d+(?:\.\d+)?)\s*[%％]", rest)
        amounts = _amounts(rest)
        if not pct and not amounts:
            continue
        amount = amounts[0][0] if amounts else None
        if amount is None and pct and total is not None:
            amount = total.value * Decimal(pct.group(1)) / 100
        items.append(
            {
                "description": m.group("desc").strip(),
                "amount": amount,
                "percent": Decimal(pct.group(1)) if pct else None,
                "due": rest.split("，")[0][:60],
            }
        )
        first = m.start() if first is None else first
        last = m.end()
    if not items or first is None:
        return None
    return Proposal(items, 0.6, first, last)


def extract_zh(text: str) -> Proposals:
    """Proposals for a Chinese contract."""
    out: Proposals = {}

    def put(name: str, proposal: Proposal | None) -> None:
        if proposal is not None:
            out[name] = proposal

    put("contract_number", _number(text))
    put("title", _title(text))
    a, b = _parties(text)
    put("party_a", a)
    put("party_b", b)
    signing = _signing_date(text)
    put("signing_date", signing)
    term_start, term_end, _ = _term(text)
    effective = _effective(text, signing, term_start)
    put("effective_date", effective)
    if term_end is not None and isinstance(term_end.value, Duration):
        duration = term_end.value
        base = effective or signing
        if base is not None and duration.months:
            value: date = add_term(base.value, months=duration.months)
            term_end = Proposal(value, 0.65, term_end.start, term_end.end)
        else:
            term_end = None
    put("expiration_date", term_end)
    total = _total(text)
    put("total_amount", total)
    if total is not None or _priced(text):
        cur_start = total.start if total else 0
        put("currency", Proposal("CNY", 0.8, cur_start, total.end if total else 0))
    put("tax_rate", _tax_rate(text))
    auto, term, notice = _renewal(text)
    put("auto_renewal", auto)
    put("renewal_term_months", term)
    if notice is None and not auto.value:
        notice = _termination_notice(text)
    put("notice_period_days", notice)
    put("governing_law", _law(text))
    kind, venue = _dispute(text)
    put("dispute_resolution", kind)
    put("dispute_venue", venue)
    put("payment_schedule", _payment_schedule(text, total))
    put("confidentiality", _confidentiality(text))
    return out
