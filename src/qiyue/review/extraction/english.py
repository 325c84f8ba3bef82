"""Rules for English contracts: the "by and between" preamble, dates, term and renewal,
notice of non-renewal, governing law and the forum."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from qiyue.lib.dates import DateMatch, add_months, find_dates
from qiyue.lib.durations import Duration, find_durations
from qiyue.review.extraction.base import Proposal, Proposals

__all__ = ["extract_en"]

_PREAMBLE = 5000
_NAME_STOP = re.compile(
    r"\s*\((?![A-Z][a-z]+\)\s+[A-Z])|\s*[\[“\"]|\s+c/o\b|,?\s+(?:a|an|the)\s+(?=[A-Za-z])|,\s*(?:having|with|whose|located|organized|"
    r"incorporated|doing|existing|its|acting|residing|each)\b|\s+(?:and|AND)(?:/or)?\s+|;|\n\s*\n|,\s*\d|"
    r"\s+(?:having|located|whose|with\s+(?:its|offices|a\s+place))\b|,\s*(?:hereinafter|herein)\b|\s+hereinafter\b|"
    r",?\s+as\s+(?=[A-Z])|\s+\d{2,}\s|,?\s+together\b|\s+Effective\b|\s*/s/|\s+WHEREAS\b|\s+(?:dated|This|THIS|WHEREAS|RECITALS?|Address|Telephone)\b|\s+of\s+\d|"
    r"\s+of\s+[A-Z][a-z]+\s+(?:House|Street|Road|Avenue)|,?\s+(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\s+\d|\.\s+(?=[A-Z][a-z]+\s+[a-z])|"
    r"\s+\((?:hereinafter|the)\b|\s*:\s*$"
)


def _clean_name(raw: str) -> str:
    raw = re.sub(r"\s+", " ", raw).strip(" ,:;\"'“”")
    if raw.endswith(".") and not re.search(
        r"\b(?:Inc|Corp|Ltd|Co|L\.P|N\.V|S\.A|B\.V|Pty|Bhd)\.$", raw
    ):
        raw = raw.rstrip(".")
    return raw


def _name_at(text: str, start: int) -> tuple[str, int, int] | None:
    m = re.match(r"(?:[\s:]|\(\s*(?:\d{1,2}|[a-z]|[ivx]{1,4})\s*\))*", text[start:])
    begin = start + (m.end() if m else 0)
    segment = text[begin : begin + 300]
    stop = _NAME_STOP.search(segment)
    raw = segment[: stop.start()] if stop else segment[:120]
    name = _clean_name(raw)
    if (
        re.search(r"\b(?:Inc|Corp|Ltd|Co|L\.P|N\.V|S\.A|L\.L\.C|B\.V|Pty|plc)$", name)
        and segment[len(raw.rstrip()) : len(raw.rstrip()) + 1] == "."
    ):
        name += "."
    if not (2 <= len(name) <= 120) or not re.match(r"[A-Z0-9]|[a-z]+[A-Z.]", name):
        return None
    if re.match(
        r"(?:this|each|such|said|the\s+(?:parties|company|undersigned|party|other))\b", name, re.I
    ):
        return None
    return name, begin, begin + len(name)


_ALIAS = re.compile(
    r"\(\s*(?:each\s+|individually\s+)?(?:the\s+|a\s+)?(?:hereinafter\s+(?:called\s+|referred\s+to\s+"
    r"as\s+)?)?(?:as\s+)?(?:the\s+)?(?:[\"“”](?P<alias>[^\"“”]{1,40})[\"“”]|"
    r"(?P<alias2>Party\s+[AB]|[A-Z][A-Za-z]{2,20})\s*\))",
    re.IGNORECASE,
)
_DELIM = re.compile(r"\bbetween\b|\band\b|\bAND\b|\bby\b|\bBY\b|;|\n\s*\n|\bamong\b|\bAMONG\b|:|\)")
_NOT_PARTY = re.compile(
    r"^(?:agreement|parties|party|effective date|this agreement|contract|amendment|plan|services?|"
    r"products?|territory|license|term)$",
    re.IGNORECASE,
)
_SUFFIX = re.compile(
    r"\b(?:Inc|Corp|Corporation|LLC|L\.L\.C|Ltd|Limited|L\.P|LP|LLP|Company|Co|GmbH|AG|B\.V|N\.V|S\.A|"
    r"PLC|plc|Pty|University|Association|Partnership|Trust|Bank|Group|Holdings|S\.p\.A|SA|SAS|AB)\b\.?",
    re.IGNORECASE,
)


def _alias_parties(head: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for m in _ALIAS.finditer(head):
        if _NOT_PARTY.match((m.group("alias") or m.group("alias2")).strip()):
            continue
        window_start = max(0, m.start() - 400)
        delims = list(_DELIM.finditer(head, window_start, m.start()))
        seg_start = delims[-1].end() if delims else window_start
        found = _name_at(head, seg_start)
        if found is None:
            continue
        name = found[0]
        if not _plausible(name) or any(name.lower() == o[0].lower() for o in out):
            continue
        out.append(found)
        if len(out) == 2:
            break
    return out


_ROLE_WORDS = {
    "company",
    "consultant",
    "client",
    "customer",
    "licensee",
    "licensor",
    "distributor",
    "supplier",
    "provider",
    "contractor",
    "franchisee",
    "franchisor",
    "seller",
    "buyer",
    "vendor",
    "reseller",
    "manufacturer",
    "purchaser",
    "agent",
    "developer",
    "sponsor",
}


_LOWER_OK = {
    "of",
    "and",
    "the",
    "de",
    "du",
    "la",
    "le",
    "des",
    "for",
    "do",
    "da",
    "van",
    "von",
    "y",
    "et",
    "dba",
    "d/b/a",
    "inc",
    "ltd",
    "co",
    "corp",
    "llc",
    "plc",
    "in",
    "und",
    "e",
}


def _lower_words_ok(name: str) -> bool:
    for token in name.split()[1:]:
        word = token.strip(",.;()")
        if word and word[0].islower() and "." not in word and word.lower() not in _LOWER_OK:
            return False
    return True


def _plausible(name: str) -> bool:
    return _lower_words_ok(name) and (
        name.lower().strip(". ") not in _ROLE_WORDS
        and not name.upper().startswith("WHEREAS")
        and len(name.split()) <= 10
        and not re.match(r"\d|parties\b|party\b", name, re.I)
        and not re.search(
            r"\b(?:desires?|wish|wishes|agrees?|acknowledges?|hereby|shall|will|is|are|has|have|"
            r"referred|collectively|to be|director of|pay|dated|this|governing)\b",
            name,
            re.I,
        )
    )


def _parties(text: str) -> tuple[Proposal | None, Proposal | None]:
    head = text[:_PREAMBLE]
    a, b = _between_parties(head)
    if a and b and _plausible(a.value) and _plausible(b.value):
        return a, b
    labelled = [
        m
        for m in re.finditer(
            r"^\s*Party\s+([AB])\b[^:\n]{0,30}:\s*(?P<name>[^\n]{2,120})$", head, re.M
        )
    ]
    if len(labelled) >= 2:
        props = []
        for m in labelled[:2]:
            found = _name_at(head, m.start("name"))
            if found:
                props.append(Proposal(found[0], 0.7, found[1], found[2]))
        if len(props) == 2:
            return props[0], props[1]
    aliased = _alias_parties(head[:3000])
    if a is not None and _plausible(a.value) and aliased:
        others = [x for x in aliased if _name_tokens_overlap(x[0], a.value) < 0.5]
        if others:
            name, start, end = others[0]
            return a, Proposal(name, 0.55, start, end)
    if len(aliased) == 2:
        (na, sa, ea), (nb, sb, eb) = aliased
        return Proposal(na, 0.6, sa, ea), Proposal(nb, 0.6, sb, eb)
    return None, None


def _name_tokens_overlap(one: str, two: str) -> float:
    a = set(re.findall(r"[a-z0-9]+", one.lower()))
    b = set(re.findall(r"[a-z0-9]+", two.lower()))
    return len(a & b) / max(len(a), len(b), 1)


def _between_parties(head: str) -> tuple[Proposal | None, Proposal | None]:
    m = re.search(
        r"\b(?:by\s+and\s+)?(?:between|among)\b\s*:?|\b(?:entered\s+into|made)\s+by\s+(?=(?-i:[A-Z]))",
        head,
        re.IGNORECASE,
    )
    if not m:
        return None, None
    first = _name_at(head, m.end())
    if first is None:
        return None, None
    name_a, a_start, a_end = first
    rest_start = a_end
    after = head[rest_start : rest_start + 1200]
    connector = (
        r"(?:and|AND|And)\b[\s:\-–—]*(?=[A-Za-z0-9“\"])(?!(?:its|their|the\s+(?:other|company))\b)"
    )
    conn = re.search(r"[)”\"]\s*[,;]?\s*" + connector, after[:700]) or re.search(
        r"\s" + connector, after
    )
    if conn is None:
        return Proposal(name_a, 0.6, a_start, a_end), None
    second = _name_at(head, rest_start + conn.end())
    prop_a = Proposal(name_a, 0.75, a_start, a_end)
    if second is None:
        return prop_a, None
    name_b, b_start, b_end = second
    return prop_a, Proposal(name_b, 0.75, b_start, b_end)


_DATED = re.compile(
    r"(?:dated|as\s+of|entered\s+into|made|effective|executed|signed|date[d]?\s+this|this)\b",
    re.IGNORECASE,
)


_RECITALS = re.compile(r"\bWHEREAS\b|\bRECITALS?\b|\bBACKGROUND\b|\bWhereas,|\bRecitals\b")
_OTHER_AGREEMENT = re.compile(
    r"that\s+certain|(?<!this\s)(?<!This\s)\b(?:the|an?)\s+(?:[A-Z][\w\-]*\s+){1,6}"
    r"(?:Agreement|Contract|License)\s*(?:\([^)]*\)\s*)?,?\s*(?:dated|on|of)?\s*(?:as\s+of\s+)?$"
)


def _preamble_date(text: str) -> DateMatch | None:
    head = text[:3000]
    cut = _RECITALS.search(head, 200)
    if cut:
        head = head[: cut.start()]
    dates = find_dates(head)
    for d in dates:
        before = head[max(0, d.start - 120) : d.start]
        if not _DATED.search(before) or re.search(r"Source:[^\n]{0,60}$", before):
            continue
        if _OTHER_AGREEMENT.search(before[-90:]) or re.search(
            r"entered\s+into\s+an?\s", before[-90:]
        ):
            continue
        return d
    # a date standing in the title block ("SERVICES AGREEMENT January 18, 2020")
    for d in dates:
        if d.start > 600:
            break
        before = head[max(0, d.start - 60) : d.start]
        if re.search(r"Source:|filed|\d{1,2}-[KQ]\b|Page", before, re.I):
            continue
        if re.search(r"(?:AGREEMENT|Agreement|CONTRACT|Date[d]?:?)\s*$", before):
            return d
    return None


_EFFECTIVE_NAME = re.compile(r"[\"“']?(?:Effective|Commencement)\s+Date[\"”']?", re.IGNORECASE)
_COMMENCE = re.compile(
    r"\b(?:term|agreement)\b[^.]{0,60}?\b(?:commenc|begin|start)\w*\s+(?:on|upon|as\s+of|from)?\s*",
    re.IGNORECASE,
)


def _effective(text: str, agreement: DateMatch | None) -> Proposal | None:
    head = text[:20000]
    for m in _EFFECTIVE_NAME.finditer(head):
        before = head[max(0, m.start() - 60) : m.start()]
        after = head[m.end() : m.end() + 120]
        if re.search(r"\(\s*(?:the|this|hereinafter)?\s*[\"“]?$", before):
            dates = find_dates(head[max(0, m.start() - 200) : m.start()])
            if dates:
                d = dates[-1]
                off = max(0, m.start() - 200)
                return Proposal(d.value, 0.8, off + d.start, off + d.end)
        if re.match(r"[\"”]?\s*(?:shall\s+)?(?:mean|means|is|shall\s+be)\b", after):
            dates = find_dates(after[:120])
            if dates:
                d = dates[0]
                return Proposal(d.value, 0.8, m.end() + d.start, m.end() + d.end)
    for m2 in re.finditer(
        r"effective\s+(?:as\s+of|on|from)?\s*(?:the\s+)?|effective\s+date\s+(?:of\s+[^.]{0,40}?)?"
        r"(?:is|will\s+be|shall\s+be)\s+",
        head,
        re.IGNORECASE,
    ):
        dates = find_dates(head[m2.end() : m2.end() + 40])
        if dates and dates[0].start < 8:
            d = dates[0]
            return Proposal(d.value, 0.75, m2.end() + d.start, m2.end() + d.end)
        if agreement is not None and re.match(
            r"(?:date\s+)?(?:first\s+(?:above\s+)?(?:written|set\s+forth)|(?:date\s+)?hereof|date\s+of\s+this)",
            head[m2.end() : m2.end() + 40],
            re.IGNORECASE,
        ):
            return Proposal(agreement.value, 0.6, m2.start(), m2.end())
    for m3 in _COMMENCE.finditer(head):
        dates = find_dates(head[m3.end() : m3.end() + 40])
        if dates and dates[0].start < 4:
            d = dates[0]
            return Proposal(d.value, 0.6, m3.end() + d.start, m3.end() + d.end)
    if agreement is not None and re.search(
        r"[\"“]Effective\s+Date[\"”]\s+(?:shall\s+)?means?\s+the\s+date\s+(?:of\s+this|hereof|first)|"
        r"commence\w*\s+(?:on|as\s+of)\s+the\s+date\s+(?:of\s+this|hereof|first)",
        head,
    ):
        return Proposal(agreement.value, 0.5, agreement.start, agreement.end)
    return None


_SENTENCES = re.compile(r"(?:[^.]|\.(?=\w))+\.?")
_TERM_WORDS = re.compile(
    r"\b(?:(?:initial|subscription|license)\s+(?:\w+\s+)?term|term\s+of\s+this|this\s+agreement\s+shall|initial\s+term|term\s+(?:shall|will)|"
    r"the\s+term\b|shall\s+(?:continue|remain)\s+in\s+(?:full\s+)?(?:force|effect)|shall\s+expire|"
    r"will\s+expire|shall\s+terminate\s+on)",
    re.IGNORECASE,
)


def _expiration(text: str, start: Proposal | None) -> Proposal | None:
    for m in _SENTENCES.finditer(text):
        sentence = m.group(0)
        if len(sentence) > 900 or not _TERM_WORDS.search(sentence):
            continue
        if re.search(r"perpetu|indefinite", sentence, re.IGNORECASE):
            return None
        low = sentence.lower()
        if not re.search(r"expire|until|terminat|term|continue|end", low):
            continue
        dates = find_dates(sentence)
        for until in re.finditer(
            r"(?:until|through|expire[sd]?(?:\s+on)?|terminate[sd]?\s+on|end(?:s|ing)?\s+(?:on|as\s+of)?|"
            r"to\s+and\s+including|thru|(?<=\d{4})\s*(?:to|-|–)\s*)\s*(?:the\s+)?(?:earlier\s+of\s+)?",
            sentence,
            re.IGNORECASE,
        ):
            later = [d for d in dates if d.start >= until.end() and d.start - until.end() < 40]
            if later and not re.search(r"renew|extension", sentence[: until.start()][-80:], re.I):
                d = later[0]
                return Proposal(d.value, 0.75, m.start() + d.start, m.start() + d.end)
        if re.search(r"renew|extend", low) and not re.search(r"initial", low):
            continue
        if re.search(r"\bterm\b|period", low):
            durations = [
                d
                for d in find_durations(sentence)
                if d.unit in ("year", "month")
                and not re.search(
                    r"renew|additional|successive|thereafter|notice|prior",
                    sentence[max(0, d.start - 40) : d.start],
                    re.IGNORECASE,
                )
            ]
            if re.search(
                r"during\s+the\s+term|(?:after|following)\s+(?:the\s+)?(?:its|such)?\s*(?:termination|expiration)|"
                r"confidential|solicit|within|per\s+unit|quarterly|royalt",
                low,
            ):
                durations = []
            if durations and durations[0].months:
                term_length = durations[0]
                months = term_length.months or 0
                base: date | None = None
                for dm in dates:
                    ctx = sentence[max(0, dm.start - 40) : dm.start]
                    if re.search(
                        r"commenc|beginning|starting|from|effective|as\s+of|on", ctx, re.I
                    ):
                        base = dm.value
                        break
                if (
                    base is None
                    and start is not None
                    and re.search(
                        r"effective\s+date|date\s+(?:of|hereof|first)|execution|commence|"
                        r"(?:shall|will)\s+(?:continue|remain)|term\s+of\s+this",
                        low,
                    )
                ):
                    base = start.value
                if base is not None:
                    value = add_months(base, months)
                    span = (m.start() + term_length.start, m.start() + term_length.end)
                    return Proposal(value, 0.55, *span)
    return None


_RENEW = re.compile(
    r"automatic(?:ally)?\s+(?:be\s+)?(?:renew|extend)|renew(?:ed)?\s+automatically|"
    r"extended\s+automatically|successive\s+(?:renewal\s+)?(?:term|period)|"
    r"automatic\s+renewal|(?:shall|will)\s+(?:be\s+)?renew|(?:shall|will)\s+(?:be\s+)?extended\s+for",
    re.IGNORECASE,
)


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start), start - 800)
    s = left + 1 if left >= 0 else 0
    m = re.search(r"\.(?:\s|$)|\n\s*\n", text[end : end + 1000])
    e = end + m.end() if m else min(len(text), end + 1000)
    return s, e


_RENEW_CUE = re.compile(r"renew|extend|extension|successive", re.IGNORECASE)
_AUTO = re.compile(
    r"automatic(?:ally)?|tacitly|successive|unless\s+(?:either|one|a|the)\s+part|"
    r"unless\s+(?:terminated|notice|written\s+notice|either)",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\bnot\s+(?:be\s+)?(?:automatically\s+)?(?:renew|extend)|no\s+automatic|"
    r"shall\s+not\s+be\s+renewed|will\s+not\s+renew",
    re.IGNORECASE,
)


def _negated(sentence: str) -> bool:
    """A clause saying the contract does not renew (not a notice "that it will not renew")."""
    for m in _NEGATED.finditer(sentence):
        before = sentence[max(0, m.start() - 60) : m.start()]
        if not re.search(
            r"notice|notif|elect|intent|desire|wish|that\s+(?:this|the|it)", before, re.I
        ):
            return True
    return False


_NOTICE_CTX = re.compile(r"notice|notif|written|prior|before|advance", re.IGNORECASE)
_TERM_CTX = re.compile(
    r"(?:successive|additional|renewal|further|extension|consecutive|renew\w*|extend\w*|periods?|terms?)"
    r"(?:\s+(?:term|period|terms|periods))?\s*(?:of|for)?\s*(?:up\s+to\s+)?(?:an?\s+)?$",
    re.IGNORECASE,
)


def _renewal(text: str) -> tuple[Proposal, Proposal | None, Proposal | None]:
    auto: Proposal | None = None
    term: Proposal | None = None
    notice: Proposal | None = None
    seen: set[int] = set()
    for m in _RENEW_CUE.finditer(text):
        s, e = _sentence(text, m.start(), m.end())
        if s in seen:
            continue
        seen.add(s)
        sentence = text[s:e]
        if len(sentence) > 1500 or _negated(sentence):
            continue
        if not re.search(r"\b(?:agreement|term|contract|license)\b", sentence, re.IGNORECASE):
            continue
        if re.search(r"\bshall\s+(?:have\s+the\s+)?mean", sentence, re.IGNORECASE):
            continue
        durations = find_durations(sentence)
        found_term: Duration | None = None
        for d in durations:
            if not d.months:
                continue
            before = sentence[max(0, d.start - 45) : d.start]
            if not _TERM_CTX.search(before) and not re.search(
                r"renew|extend|extension|successive", before, re.IGNORECASE
            ):
                continue
            if re.search(r"notice|prior\s+to|before|initial|first", before, re.IGNORECASE):
                continue
            found_term = d
            break
        if found_term is None and re.search(r"renew|extend", sentence, re.I):
            yearly = re.search(
                r"\b(?:annually|(?:from\s+)?year[\s-]+to[\s-]+year|yearly|one[\s-]year\s+basis)\b"
                r"|(?P<monthly>month[\s-]+to[\s-]+month)",
                sentence,
                re.I,
            )
            if yearly:
                months = 1 if yearly.group("monthly") else 12
                found_term = Duration(months, "month", yearly.start(), yearly.end())
        is_auto = bool(_AUTO.search(sentence)) or bool(
            re.search(r"renew", sentence, re.IGNORECASE) and re.search(r"unless", sentence, re.I)
        )
        if is_auto and auto is None and re.search(r"renew|extend", sentence, re.IGNORECASE):
            auto = Proposal(True, 0.7, m.start(), m.end())
        if found_term is not None and term is None:
            term = Proposal(found_term.months, 0.65, s + found_term.start, s + found_term.end)
            if notice is None and (is_auto or re.search(r"notice", sentence, re.I)):
                notice = _notice_in(text, s, min(len(text), e + 300), skip=term.start)
        if term is not None and auto is not None:
            break
    if notice is None and auto is not None:
        notice = _non_renewal_notice(text)
    return auto or Proposal(False, 0.5, 0, 0), term, notice


_NOTICE_WORD = re.compile(
    r"notice|notif|terminat|not\s+to\s+renew|non-?renew|cancel", re.IGNORECASE
)
_BEFORE_WORD = re.compile(
    r"prior|before|in\s+advance|preceding|end\s+of|expiration|expiry|no\s+later|written\s+notice|"
    r"notice\s+of",
    re.IGNORECASE,
)


def _notice_in(text: str, start: int, end: int, *, skip: int = -1) -> Proposal | None:
    """The first day/week/month duration in ``text[start:end]`` worded as a notice."""
    window = text[start:end]
    for d in find_durations(window):
        if d.unit not in ("day", "month", "week") or start + d.start == skip:
            continue
        before = window[max(0, d.start - 200) : d.start]
        after = window[d.end : d.end + 80]
        near = window[max(0, d.start - 40) : d.end + 40]
        if not (_NOTICE_WORD.search(near) or _NOTICE_WORD.search(after[:30])):
            continue
        if _BEFORE_WORD.search(before[-60:] + window[d.start : d.end] + after) or re.search(
            r"notice", before, re.I
        ):
            return Proposal(d.days, 0.55, start + d.start, start + d.end)
    return None


def _non_renewal_notice(text: str) -> Proposal | None:
    """The notice that stops an automatic renewal ("... at least 60 days prior to ...")."""
    for m in re.finditer(r"renew|non-renewal|nonrenewal|extension", text, re.IGNORECASE):
        s, e = _sentence(text, m.start(), m.end())
        if e - s > 1500 or not _NOTICE_WORD.search(text, s, e):
            continue
        found = _notice_in(text, s, e)
        if found is not None:
            return found
    return None


_LAW_CUE = re.compile(
    r"governed|construed|interpreted|enforced|governing\s+law|choice\s+of\s+law|applicable\s+law",
    re.IGNORECASE,
)
_LAWS_OF = re.compile(
    r"\blaws?\b(?:\s+and\s+(?:decisions|regulations|statutes|rules))?(?:,[^,.]{0,60},)?"
    r"\s+(?:of|in|under)\s+"
    r"(?:the\s+)?(?:internal\s+)?",
    re.IGNORECASE,
)
_X_LAW = re.compile(
    r"(?:with|under|by)\s+(?:the\s+)?(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+law\b"
)
_PLACE = re.compile(r"(?:State|Commonwealth|Province|Republic|Kingdom)\s+of\s+", re.IGNORECASE)
_STOP = {
    "without",
    "applicable",
    "excluding",
    "regardless",
    "as",
    "in",
    "to",
    "that",
    "which",
    "other",
    "including",
    "notwithstanding",
    "with",
    "for",
    "except",
    "exclusive",
    "shall",
    "will",
    "governing",
    "but",
    "provided",
    "irrespective",
    "by",
    "any",
    "its",
    "their",
    "from",
    "on",
    "applied",
    "pertaining",
    "relating",
    "where",
    "if",
    "and/or",
    "or",
}


_GENERIC = {
    "the",
    "such",
    "any",
    "each",
    "this",
    "that",
    "territory",
    "country",
    "jurisdiction",
    "state",
    "province",
    "nation",
    "place",
    "relevant",
    "location",
    "agreement",
    "party",
}


def _place_name(segment: str) -> str:
    place = ""
    m = _PLACE.match(segment)
    if m:
        kind = m.group(0).split()[0].title()
        place = "" if kind == "Province" else kind + " of "
        segment = segment[m.end() :]
    tokens = re.findall(r"[A-Za-z][\w'’.\-]*|[,;()]", segment[:80])
    out: list[str] = []
    for i, tok in enumerate(tokens):
        low = tok.lower().rstrip(".")
        if tok in ",;()" or low in _STOP:
            break
        if low in ("and", "of"):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if not nxt[:1].isupper() or nxt.lower() in ("the", "all") or (low == "and" and not out):
                break
        elif not tok[:1].isupper():
            break
        if tok.endswith(".") and not re.fullmatch(r"(?:[A-Z]\.)+", tok):
            out.append(tok.rstrip("."))
            break
        out.append(tok)
    while out and out[-1].lower() in ("and", "of"):
        out.pop()
    name = " ".join(out).strip(". ")
    if name.isupper():
        name = name.title().replace("U.S.A", "U.S.A")
    return (place + name).strip() if name else ""


def _law(text: str) -> Proposal | None:
    for cue in _LAW_CUE.finditer(text):
        window_end = min(len(text), cue.end() + 250)
        best: Proposal | None = None
        for m in _LAWS_OF.finditer(text, max(0, cue.start() - 40), window_end):
            name = _place_name(text[m.end() : m.end() + 120])
            if not name or name.lower() in _GENERIC:
                continue
            if name.lower().startswith(("united states", "the united states")):
                # a state named next to federal law is the answer ("U.S. and the State of X")
                if best is None:
                    best = Proposal(name, 0.6, m.end(), m.end() + len(name))
                continue
            return Proposal(name, 0.85, m.end(), m.end() + len(name))
        if best is not None:
            return best
        thereof = re.search(
            r"laws\s+(?:thereof|of\s+(?:said|such)\s+state)", text[cue.start() : window_end], re.I
        )
        if thereof:
            before = text[max(0, cue.start() - 200) : cue.start()]
            states = list(re.finditer(r"(?:State|Commonwealth|Province)\s+of\s+", before))
            if states:
                name = _place_name(before[states[-1].start() :])
                if name:
                    return Proposal(name, 0.6, cue.start(), cue.end())
        x = _X_LAW.search(text, cue.start(), window_end)
        if x:
            return Proposal(x.group("name"), 0.7, x.start("name"), x.end("name"))
    return None


_ARB_BODY = re.compile(
    r"American\s+Arbitration\s+Association|JAMS|International\s+Chamber\s+of\s+Commerce|"
    r"China\s+International\s+Economic\s+and\s+Trade\s+Arbitration\s+Commission|CIETAC|"
    r"[A-Z][\w ]{0,40}International\s+Arbitration\s+Centre|"
    r"London\s+Court\s+of\s+International\s+Arbitration"
)
_COURTS = re.compile(
    r"(?:(?:the\s+)?(?:state\s+(?:and|or)\s+federal|federal\s+(?:and|or)\s+state|federal|state)\s+)?"
    r"courts?\s+(?:located|sitting|situated)?\s*(?:in|of|for)\s+[^.;()]{3,80}?"
    r"(?=[.;]|,\s*(?:and|for|in\s+connection|with)|\s+(?:for|with|in\s+connection|and\s+each|and\s+the)\b)",
    re.IGNORECASE,
)


def _dispute(text: str) -> tuple[Proposal | None, Proposal | None]:
    for m in re.finditer(
        r"\bbinding\s+arbitration|\bsubmitted\s+to\s+arbitration|"
        r"\bsettled\s+(?:exclusively\s+)?by\s+arbitration|\bresolved\s+by\s+"
        r"(?:final\s+and\s+binding\s+|binding\s+)?arbitration",
        text,
        re.IGNORECASE,
    ):
        s, e = _sentence(text, m.start(), m.end())
        body = _ARB_BODY.search(text, s, e + 300)
        venue = Proposal(body.group(0), 0.6, body.start(), body.end()) if body else None
        return Proposal("arbitration", 0.7, m.start(), m.end()), venue
    for m in re.finditer(
        r"exclusive\s+jurisdiction|submit\s+to\s+the\s+(?:exclusive\s+)?jurisdiction|"
        r"venue\s+(?:for|of)\s+any|irrevocably\s+submit",
        text,
        re.IGNORECASE,
    ):
        s, e = _sentence(text, m.start(), m.end())
        court = _COURTS.search(text, s, e)
        if court:
            value = re.sub(r"^the\s+", "", re.sub(r"\s+", " ", court.group(0).strip()))
            return (
                Proposal("litigation", 0.65, m.start(), m.end()),
                Proposal(value, 0.55, court.start(), court.end()),
            )
    return None, None


def _number(text: str) -> Proposal | None:
    m = re.search(
        r"(?:Agreement|Contract|Order)\s+(?:No\.?|Number|#)\s*:?\s*(?P<no>[A-Z0-9][A-Z0-9\-_/.]*[A-Z0-9])",
        text[:2000],
    )
    if not m or not re.search(r"\d", m.group("no")):
        return None
    return Proposal(m.group("no"), 0.8, m.start("no"), m.end("no"))


def _title(text: str) -> Proposal | None:
    offset = 0
    for line in text.splitlines()[:8]:
        stripped = line.strip()
        if stripped:
            if len(stripped) <= 80 and re.search(r"AGREEMENT|CONTRACT|LICENSE|Agreement", stripped):
                start = text.find(stripped, offset)
                title = stripped.title() if stripped.isupper() else stripped
                title = re.sub(r"\bSaas\b", "SaaS", title)
                return Proposal(title, 0.6, start, start + len(stripped))
            return None
        offset += len(line) + 1
    return None


def _total(text: str) -> Proposal | None:
    for m in re.finditer(
        r"total\s+(?:contract\s+)?(?:value|price|fees?|consideration|amount)[^.$]{0,120}?"
        r"(?:US\$|\$|USD\s*)\s*(?P<fig>[\d,]+(?:\.\d\d)?)(?!\s*(?:per|each|/))",
        text,
        re.IGNORECASE,
    ):
        ctx = text[m.start() : m.end()].lower()
        if re.search(r"initial subscription term\b(?!.*including)", ctx) and "including" not in ctx:
            continue
        value = Decimal(m.group("fig").replace(",", ""))
        return Proposal(value, 0.6, m.start("fig"), m.end("fig"))
    return None


def extract_en(text: str) -> Proposals:
    """Proposals for an English contract."""
    out: Proposals = {}

    def put(name: str, proposal: Proposal | None) -> None:
        if proposal is not None:
            out[name] = proposal

    put("contract_number", _number(text))
    put("title", _title(text))
    a, b = _parties(text)
    if a and b:
        put("party_a", a)
        put("party_b", b)
    agreement = _preamble_date(text)
    signing = Proposal(agreement.value, 0.7, agreement.start, agreement.end) if agreement else None
    put("signing_date", signing)
    effective = _effective(text, agreement)
    put("effective_date", effective)
    put("expiration_date", _expiration(text, effective or signing))
    total = _total(text)
    put("total_amount", total)
    if total is not None:
        put("currency", Proposal("USD", 0.6, total.start, total.end))
    auto, term, notice = _renewal(text)
    put("auto_renewal", auto)
    put("renewal_term_months", term)
    put("notice_period_days", notice)
    put("governing_law", _law(text))
    kind, venue = _dispute(text)
    put("dispute_resolution", kind)
    put("dispute_venue", venue)
    conf = re.search(r"confidential\s+information|confidentiality", text, re.IGNORECASE)
    put(
        "confidentiality",
        Proposal(bool(conf), 0.6, conf.start() if conf else 0, conf.end() if conf else 0),
    )
    return out
