"""Rules for English contracts: the "by and between" preamble, dates, term and renewal,
notice of non-renewal, governing law and the forum."""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal

from qiyue.lib.dates import DateMatch, add_months, find_dates
from qiyue.lib.durations import Duration, find_durations, word_number
from qiyue.review.extraction.base import Proposal, Proposals

__all__ = ["extract_en"]

_PREAMBLE = 5000
_NAME_STOP = re.compile(
    r"\s*\((?![A-Z][a-z]+\)\s+[A-Z])|\s*[\[“\"]|\s+c/o\b|,?\s+(?:a|an)\s+(?=[A-Za-z])|(?<!\bof)(?<!\bOF),?\s+the\s+(?=[A-Za-z])|,\s*(?:having|with|whose|located|organized|"
    r"incorporated|doing|existing|its|acting|residing|each)\b|\s+(?:and|AND)(?:/or)?\s+|;|\n\s*\n|,\s*\d|"
    r"\s+(?:having|located|whose|with\s+(?:its|offices|a\s+place))\b|,\s*(?:hereinafter|herein)\b|\s+hereinafter\b|"
    r",?\s+as\s+(?=[A-Z])|\s+\d{2,}\s|,?\s+together\b|\s+Effective\b|\s*/s/|\s+WHEREAS\b|\s+(?:dated|This|THIS|WHEREAS|RECITALS?|Address|Telephone)\b|\s+of\s+\d|"
    r"\s+of\s+[A-Z][a-z]+\s+(?:House|Street|Road|Avenue)|,?\s+(?:January|February|March|April|May|June|July|"
    r"August|September|October|November|December)\s+\d|\.\s+(?=[A-Z][a-z]+\s+[a-z])|"
    r"\s+\((?:hereinafter|the)\b|\s*:\s*$|"
    # a comma ends the name unless a company suffix follows ("Acme, Inc."), so addresses,
    # "a/k/a", "dba" and descriptions after the name are left out
    r",(?!\s*(?:Inc|Incorporated|Corp|Corporation|LLC|L\.L\.C|Ltd|Limited|L\.?P|LLP|Co|Company|"
    r"N\.\s?A|S\.\s?A|AG|GmbH|plc|PLC|B\.\s?V|N\.\s?V|S\.p\.A|SA|SAS|S\.A\.S|Pty|P\.?C|L\.?C|"
    r"INC|CORP|CORPORATION|LTD|LIMITED|COMPANY|CO|S\.?L|SpA|KG|GmbH\s&\sCo|Jr|Sr|III?|FSB|[MN]\.\s?D|Ph\.\s?D|Esq)\b)|"
    r"\s+(?:through|acting\s+by|represented\s+by|on\s+behalf\s+of|a/k/a|f/k/a|[Dd]ated|DATED|"
    r"EFFECTIVE|Dated:)\b|\s+[—–-]{1,2}\s+"
)


def _clean_name(raw: str) -> str:
    raw = re.sub(r"\s+", " ", raw).strip(" ,:;\"'“”")
    if raw.endswith(".") and not re.search(
        r"\b(?:Inc|Corp|Ltd|Co|L\.P|N\.V|S\.A|N\.A|B\.V|Pty|Bhd)\.$", raw
    ):
        raw = raw.rstrip(".")
    return raw


def _name_at(text: str, start: int) -> tuple[str, int, int] | None:
    m = re.match(
        r"(?:[\s:]|\(\s*(?:\d{1,2}|[a-z]|[ivx]{1,4})\s*\)|(?:the|The)\s+(?=[A-Z][a-z]))*",
        text[start:],
    )
    begin = start + (m.end() if m else 0)
    # a description before the name: "between professional golfer, TOM WATSON, ..."
    described = re.match(r"(?:[a-z]+\s){0,3}[a-z]+,\s+(?=[A-Z])", text[begin : begin + 60])
    if described and not re.match(r"(?:and|or|the|by|between|among)\b", text[begin:]):
        begin += described.end()
    segment = text[begin : begin + 300]
    stop = _NAME_STOP.search(segment)
    raw = segment[: stop.start()] if stop else segment[:120]
    name = _clean_name(raw)
    if (
        re.search(r"\b(?:Inc|Corp|Ltd|Co|L\.P|N\.V|S\.A|N\.A|L\.L\.C|B\.V|Pty|plc)$", name)
        and segment[len(raw.rstrip()) : len(raw.rstrip()) + 1] == "."
    ):
        name += "."
    if not (2 <= len(name) <= 120) or not re.match(
        r"[A-Z0-9]|[a-z]+[A-Z0-9]|[a-z][\w\-]*\.(?:com|net|org)\b", name
    ):
        return None
    if re.match(
        r"(?:this|each|such|said|the\s+(?:parties|company|undersigned|party|other))\b", name, re.I
    ):
        return None
    return name, begin, begin + len(name)


_ALIAS = re.compile(
    r"\(\s*(?:(?:each|individually|collectively|together|jointly|hereinafter|hereafter|herein|called|"
    r"referred\s+to\s+as|as|the|a|an|or)[\s,]+)*(?:[\"“”](?P<alias>[^\"“”]{1,40})[\"“”]|"
    r"(?P<alias2>Party\s+[AB]|[A-Z][A-Za-z]{2,20})\s*\))",
    re.IGNORECASE,
)
_DELIM = re.compile(r"\bbetween\b|\band\b|\bAND\b|\bby\b|\bBY\b|;|\n\s*\n|\bamong\b|\bAMONG\b|:|\)")
_NOT_PARTY = re.compile(
    r"^(?:agreement|parties|party|effective date|this agreement|contract|amendment|plan|services?|"
    r"products?|territory|license|term|sec|commission|act|securities\s+act|exchange\s+act|code|"
    r"fda|irs|ftc|fcc|plan|offering|shares|stock)$",
    re.IGNORECASE,
)


#: A company name: capitalised words ending in a company suffix ("Acme Widgets, Inc.").
_ORG = re.compile(
    r"(?<![\w&.\-])(?<!\ba\s)(?<!\ban\s)[A-Z0-9][\w&'’.\-/]*"
    r"(?:\s+(?:(?:of|and|de|du|la|the|for|y|e|und)\s+)?[A-Z0-9&][\w&'’.\-/]*){0,7}?,?\s+(?:Inc|Incorporated|Corp|Corporation|CORPORATION|LLC|L\.L\.C|Ltd|LTD|Limited|LIMITED|"
    r"L\.P|LP|LLP|Company|COMPANY|Co|CO|GmbH|AG|B\.V|N\.V|S\.A|PLC|plc|Pty|S\.p\.A|SAS|AB|N\.A)\b\.?"
)
_NOT_ORG_WORD = re.compile(
    r"\b(?:AGREEMENT|Agreement|BETWEEN|Between|THIS|This|BY|AND|EXHIBIT|Exhibit)\b"
)


def _org_in(head: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The last company name in ``head[start:end]`` (the one nearest a defined term after it)."""
    orgs = _orgs_in(head, start, end)
    return orgs[-1] if orgs else None


def _orgs_in(head: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """The company names in ``head[start:end]``, in text order."""
    found: list[tuple[str, int, int]] = []
    for m in _ORG.finditer(head, start, end):
        name = _clean_name(m.group(0))
        if _NOT_ORG_WORD.search(name) or re.search(
            r"\b(?:an?|the)\s+$", head[max(0, m.start() - 6) : m.start()], re.I
        ):
            continue
        if re.match(r"(?:Limited|Liability|Public|Private|Joint|Stock)\b", name, re.I):
            continue
        if m.group(0).endswith(".") and not name.endswith("."):
            name += "."
        found.append((name, m.start(), m.start() + len(name)))
    return found


def _alias_names(head: str) -> list[tuple[str, int, int, str]]:
    """Every ``Name ... ("Alias")`` in ``head``: (name, start, end, alias), in text order."""
    out: list[tuple[str, int, int, str]] = []
    prev_end = 0
    for m in _ALIAS.finditer(head):
        alias = (m.group("alias") or m.group("alias2")).strip()
        if _NOT_PARTY.match(alias):
            prev_end = m.end()
            continue
        window_start = max(0, m.start() - 400)
        delims = list(_DELIM.finditer(head, window_start, m.start()))
        seg_start = delims[-1].end() if delims else window_start
        found = _name_at(head, seg_start)
        represented = delims and re.search(
            r"(?:represented|acting|signed|executed)\s+(?:herein\s+)?by$",
            head[max(0, seg_start - 40) : seg_start],
        )
        if found is None or not _plausible(found[0]) or represented:
            # "... under which Acme Corp., a Nevada corporation with offices at ... ("Acme")"
            found = _org_in(head, max(window_start, prev_end), m.start()) or (
                None if represented else found
            )
        prev_end = m.end()
        if found is None or not _plausible(found[0]):
            continue
        out.append((*found, alias))
    return out


def _alias_parties(head: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for name, start, end, _alias in _alias_names(head):
        if any(name.lower() == o[0].lower() for o in out):
            continue
        out.append((name, start, end))
        if len(out) == 2:
            break
    return out


def _resolve_alias(prop: Proposal, names: list[tuple[str, int, int, str]]) -> Proposal:
    """The full name for a party given by its defined term ("ACM" -> "American Champion Media")."""
    for name, start, end, alias in names:
        if alias.lower() == prop.value.lower() and len(name) > len(alias):
            return Proposal(name, prop.confidence, start, end)
    return prop


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
    "corporation",
    "trust",
    "fund",
    "bank",
    "partnership",
    "you",
    "we",
    "us",
    "executive",
    "employee",
    "owner",
    "member",
    "recipient",
    "guarantor",
    "investor",
    "lender",
    "borrower",
    "landlord",
    "tenant",
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
        if (
            word
            and word[0].islower()
            and "." not in word
            and word.lower() not in _LOWER_OK
            # brand spellings such as "iDreamSky", "eBay", "i3" are names
            and not re.search(r"[A-Z0-9]", word[1:])
        ):
            return False
    return True


_ENDS_IN_SUFFIX = re.compile(
    r"\b(?:Inc|Incorporated|Corp|Corporation|LLC|L\.L\.C|Ltd|Limited|L\.P|LP|LLP|Company|Co|GmbH|AG|"
    r"B\.V|N\.V|S\.A|PLC|plc|Pty|S\.p\.A|SA|SAS|AB|Trust|Bank|Fund)\.?$",
    re.IGNORECASE,
)


def _plausible(name: str) -> bool:
    return _lower_words_ok(name) and (
        re.sub(r"^the\s+", "", name.lower().strip(". ")) not in _ROLE_WORDS
        and not name.upper().startswith("WHEREAS")
        and len(name.split()) <= 10
        and not re.match(r"parties\b|party\b", name, re.I)
        # a numbered company ("2205925 Ontario Limited"), not a clause number
        and not (re.match(r"\d", name) and not re.match(r"\d+\s+[A-Z]", name))
        and not (re.match(r"\d", name) and not _ENDS_IN_SUFFIX.search(name))
        # a heading, a redaction or a formula rather than a name
        and not re.search(
            r"[{}\[\]*<>]|\b(?:agreement|contract|act|code)$|^(?:these|those)\b|"
            r"\bexchange\s+commission\b",
            name,
            re.I,
        )
        and not re.search(
            r"\b(?:desires?|wish|wishes|agrees?|acknowledges?|hereby|shall|will|is|are|has|have|"
            r"referred|collectively|to be|director of|pay|dated|this|governing)\b",
            name,
            re.I,
        )
    )


_LATE_PREAMBLE = re.compile(
    r"\b(?:This|THIS)\s+(?:[\w\-]+\s+){0,8}?(?:Agreement|AGREEMENT|Contract|CONTRACT)\b[^.]{0,200}?"
    r"\b(?:made|MADE|entered|ENTERED|executed|dated|DATED)\b[^.]{0,200}?\b(?:between|among|BETWEEN|AMONG)\b"
)


def _parties(text: str) -> tuple[Proposal | None, Proposal | None]:
    head = text[:_PREAMBLE]
    a, b = _find_parties(head)
    if a is None or b is None:
        # a table of contents first: the preamble comes after it
        late = _LATE_PREAMBLE.search(text, _PREAMBLE // 2, 40000)
        if late is not None:
            off = late.start()
            la, lb = _find_parties(text[off : off + _PREAMBLE])
            if la is not None and lb is not None:
                a = Proposal(la.value, la.confidence, la.start + off, la.end + off)
                b = Proposal(lb.value, lb.confidence, lb.start + off, lb.end + off)
                head = text[: off + _PREAMBLE]
    if a is None or b is None:
        # no preamble names them: the companies that sign ("ACME CORP. By: /s/ ...")
        signed = _signature_parties(text)
        if len(signed) == 2:
            (na, sa, ea), (nb, sb, eb) = signed
            return Proposal(na, 0.4, sa, ea), Proposal(nb, 0.4, sb, eb)
    if a is not None and b is not None and (len(a.value) <= 12 or len(b.value) <= 12):
        # a party named by its defined term: the full name given where the term is defined
        names = _alias_names(head[:3000])
        full_a, full_b = _resolve_alias(a, names), _resolve_alias(b, names)
        if full_a.value != full_b.value:
            a, b = full_a, full_b
    return a, b


_ACTING_FOR = re.compile(
    r",?\s*(?:the\s+|its\s+)?(?:director|president|chief\s+executive\s+officer|ceo|owner|managing\s+"
    r"(?:director|member|partner)|general\s+partner|sole\s+proprietor|principal|founder)\s+of\s+",
    re.IGNORECASE,
)


def _acting_for(head: str, prop: Proposal | None) -> Proposal | None:
    """The company a person signs for: "Jane Doe, director of Acme Ltd" gives Acme Ltd."""
    if prop is None:
        return None
    m = _ACTING_FOR.match(head, prop.end)
    if m is None:
        return prop
    found = _name_at(head, m.end())
    if found is None or not _plausible(found[0]):
        return prop
    return Proposal(found[0], prop.confidence, found[1], found[2])


def _signature_parties(text: str) -> list[tuple[str, int, int]]:
    """The first two companies named in the signature blocks, not those signing for them."""
    witness = list(re.finditer(r"IN\s+WITNESS\s+WHEREOF", text, re.IGNORECASE))
    start = witness[-1].start() if witness else max(0, len(text) - 3000)
    out: list[tuple[str, int, int]] = []
    for raw, s, e in _orgs_in(text, start, min(len(text), start + 3000)):
        # the block runs on from the previous signer's date or title
        lead = re.match(
            r"(?:.*\b(?:Officer|Signatory|President|Director|Secretary|Treasurer|Esq\.|Manager)\s+)?"
            r"[\d/.,\-\s]*",
            raw,
        )
        name = raw[lead.end() :] if lead else raw
        s += len(raw) - len(name)
        if re.search(r"(?:By|Its|Title|of|for|Name)\s*:?\s*$", text[max(0, s - 12) : s]):
            continue
        if not _plausible(name) or any(_name_tokens_overlap(name, o[0]) >= 0.5 for o in out):
            continue
        out.append((name, s, e))
        if len(out) == 2:
            break
    return out


def _find_parties(head: str) -> tuple[Proposal | None, Proposal | None]:
    a, b = _between_parties(head)
    a, b = _acting_for(head, a), _acting_for(head, b)
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


_BETWEEN = re.compile(
    r"\b(?:by\s+and\s+)?(?:between|among)\b\s*:?|\b(?:entered\s+into|made)\s+by\s+(?=(?-i:[A-Z]))",
    re.IGNORECASE,
)


def _between_parties(head: str) -> tuple[Proposal | None, Proposal | None]:
    """The parties after "between"; a later "between" when the first names none
    (a heading such as "Relationship between the Parties")."""
    fallback: tuple[Proposal | None, Proposal | None] = (None, None)
    for i, m in enumerate(_BETWEEN.finditer(head)):
        if i == 4:
            break
        a, b = _between_at(head, m)
        if a is not None and b is not None and _plausible(a.value) and _plausible(b.value):
            return a, b
        if fallback[0] is None and a is not None:
            fallback = a, b
        if fallback[0] is not None:
            break
    return fallback


def _between_at(head: str, m: re.Match[str]) -> tuple[Proposal | None, Proposal | None]:
    first = _name_at(head, m.end())
    if first is None:
        return None, None
    name_a, a_start, a_end = first
    rest_start = a_end
    after = head[rest_start : rest_start + 1200]
    connector = (
        r"(?:and|AND|And)\b[\s:\-–—]*(?=[A-Za-z0-9“\"(])(?!(?:its|their|the\s+(?:other|company))\b)"
    )
    # "and" after the first party's defined term, else the first "and" naming a party
    conn = re.search(r"[)”\"]\s*[,;]?\s*" + connector, after[:700]) or re.search(
        r"\s" + connector, after
    )
    prop_a = Proposal(name_a, 0.75, a_start, a_end)
    if conn is None:
        return Proposal(name_a, 0.6, a_start, a_end), None
    second = _name_at(head, rest_start + conn.end())
    if second is None or not _plausible(second[0]):
        # the first "and" was inside a description: a later one naming a company
        for later in re.finditer(r"\s" + connector, after[:700]):
            found = _name_at(head, rest_start + later.end())
            if found and _plausible(found[0]) and _ENDS_IN_SUFFIX.search(found[0]):
                second = found
                break
    if second is None:
        return prop_a, None
    name_b, b_start, b_end = second
    return prop_a, Proposal(name_b, 0.75, b_start, b_end)


_DATED = re.compile(
    r"(?:dated|as\s+of|entered\s+into|made|effective|executed|signed|date[d]?\s+this|this)\b",
    re.IGNORECASE,
)


#: A date introduced only as the start of the term ("is effective as of", "Commencement
#: Date: ...") is the effective date; the agreement's own date needs a signing word too.
_EFFECTIVE_ONLY = re.compile(
    r"(?:\beffective(?:\s+(?:as\s+of|on|from))?|\b(?:effective|commencement)\s+dates?\b[^.:]{0,60}:)"
    r"\s*(?:the\s+)?$",
    re.IGNORECASE,
)
_SIGNING_WORD = re.compile(r"\b(?:made|entered\s+into|dated|executed|signed)\b", re.IGNORECASE)


_RECITALS = re.compile(r"\bWHEREAS\b|\bRECITALS?\b|\bBACKGROUND\b|\bWhereas,|\bRecitals\b")
_OTHER_AGREEMENT = re.compile(
    r"that\s+certain|(?<!this\s)(?<!This\s)\b(?:the|an?)\s+(?:(?:[A-Z][\w\-]*|and|of|for|&)\s+){1,8}"
    r"(?:Agreement|Contract|License)\s*(?:\([^)]*\)\s*)?,?\s*(?:dated|on|of)?\s*(?:as\s+of\s+)?$"
)


#: The agreement is dated when it is signed: its date stands by the signatures, if anywhere.
_DATED_BY_SIGNATURE = re.compile(
    r"(?:as\s+of|on|effective)\s+the\s+(?:later\s+of\s+the\s+)?dates?\s+(?:on\s+which\s+)?(?:it\s+is\s+|this\s+"
    r"agreement\s+(?:is|has\s+been)\s+)?(?:last\s+)?(?:signed|executed)(?:\s+by)?|"
    r"date\s+of\s+(?:the\s+)?last\s+(?:signature|execution)|"
    r"date\s+(?:last\s+)?(?:signed|executed)\s+(?:by\s+(?:both|all|the\s+last)|below)|"
    r"(?:later|last)\s+of\s+the\s+(?:two\s+)?(?:signature\s+dates|dates\s+(?:beneath|below|of\s+(?:signature|"
    r"execution)|on\s+which))|(?:last|later)\s+date\s+of\s+(?:signature|execution)",
    re.IGNORECASE,
)


def _signature_date(text: str) -> DateMatch | None:
    """The latest date written in the signature blocks ("Date: March 3, 2020"), if any."""
    witness = list(re.finditer(r"IN\s+WITNESS\s+WHEREOF", text, re.IGNORECASE))
    start = witness[-1].start() if witness else max(0, len(text) - 3000)
    tail = text[start : start + 4000]
    dated = [
        d
        for d in find_dates(tail)
        if re.search(r"Dated?\s*:?\s*$", tail[max(0, d.start - 12) : d.start], re.IGNORECASE)
    ]
    if not dated:
        return None
    last = max(dated, key=lambda d: d.value)
    return DateMatch(last.value, start + last.start, start + last.end)


def _witness_date(text: str) -> DateMatch | None:
    """The date in "IN WITNESS WHEREOF, the parties have executed this Agreement as of <date>"."""
    for m in re.finditer(r"IN\s+WITNESS\s+WHEREOF", text, re.IGNORECASE):
        _s, e = _sentence(text, m.start(), m.end())
        dates = find_dates(text[m.start() : min(e, m.start() + 400)])
        if dates:
            d = dates[0]
            return DateMatch(d.value, m.start() + d.start, m.start() + d.end)
    return None


def _preamble_dates(text: str) -> tuple[DateMatch | None, DateMatch | None]:
    """The agreement's date, and the date a preamble gives only as the start of the term
    ("This Agreement is effective as of ..."), which is an effective date, not a signing one."""
    head = text[:3000]
    cut = _RECITALS.search(head, 200)
    if cut:
        head = head[: cut.start()]
    by_signature = _DATED_BY_SIGNATURE.search(head)
    dates = find_dates(head)
    term_start: DateMatch | None = None
    for d in dates:
        if by_signature is not None and d.start > by_signature.start():
            break
        before = head[max(0, d.start - 120) : d.start]
        # the word that dates the agreement stands right before the date
        adjacent = _DATED.search(re.sub(r"\s+", " ", before)[-40:]) or (
            re.search(r"\bon\s+(?:the\s+)?$", before) and _DATED.search(before)
        )
        if not adjacent or re.search(r"Source:[^\n]{0,60}$", before):
            continue
        compact = re.sub(r"\s+", " ", before)[-70:]
        signing_word = _SIGNING_WORD.search(compact[-35:])
        if _EFFECTIVE_ONLY.search(compact) and not signing_word:
            # this date starts the term; a later one dates the agreement only if a
            # signing word stands by it (not the term's end)
            term_start = term_start or d
            continue
        if term_start is not None and not signing_word:
            continue
        if _OTHER_AGREEMENT.search(before[-90:]) or re.search(
            r"entered\s+into\s+an?\s", before[-90:]
        ):
            continue
        return d, term_start
    if by_signature is not None:
        # "made as of the date last signed below": the signatures' date, or none when blank
        return _signature_date(text), term_start
    if not dates:
        # no date in the preamble: "IN WITNESS WHEREOF ... executed this Agreement as of
        # the 4th day of April, 2003" (dates written by the signatures alone are too weak)
        return _witness_date(text), term_start
    # a date standing in the title block ("SERVICES AGREEMENT January 18, 2020")
    for d in dates:
        if d.start > 600:
            break
        before = head[max(0, d.start - 60) : d.start]
        if re.search(r"Source:|filed|\d{1,2}-[KQ]\b|Page", before, re.I):
            continue
        if re.search(r"(?:AGREEMENT|Agreement|CONTRACT|Date[d]?:?)\s*$", before):
            return d, term_start
    return None, term_start


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
    r"will\s+expire|shall\s+terminate\s+on|remain\s+valid|come\s+into\s+(?:force|effect))",
    re.IGNORECASE,
)

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "fifteenth": 15,
    "twentieth": 20,
}
_ANNIVERSARY = re.compile(
    r"\b(?:until|on|upon|at|expire\w*(?:\s+(?:on|upon|at))?|end\w*(?:\s+on)?|terminat\w*(?:\s+on)?)\s+"
    r"(?:the\s+earlier\s+of\s+(?:\(\w+\)\s+)?)?the\s+(?:(?P<ord>[a-z]+)|(?P<num>\d{1,2})(?:st|nd|rd|th)|"
    r"(?P<word>[a-z]+|\d{1,2})[\s-]+year)\s+anniversary\s+of\s+the\s+(?:Effective\s+Date|"
    r"date\s+(?:hereof|of\s+this\s+Agreement|first\s+(?:above\s+)?written)|Commencement\s+Date|Execution\s+Date)",
    re.IGNORECASE,
)


def _anniversary_end(text: str, start: Proposal | None) -> Proposal | None:
    """ "... shall end on the third anniversary of the Effective Date" from a known start."""
    if start is None:
        return None
    for word in re.finditer(r"anniversary", text, re.IGNORECASE):
        m = _ANNIVERSARY.search(text, max(0, word.start() - 60), word.end() + 80)
        if m is None:
            continue
        ctx = text[max(0, m.start() - 200) : m.start()]
        if not re.search(r"\bterm\b|agreement|period", ctx, re.IGNORECASE):
            continue
        raw = (m.group("ord") or m.group("num") or m.group("word") or "").lower()
        years = _ORDINALS.get(raw) or word_number(raw) or (int(raw) if raw.isdigit() else 0)
        if years:
            return Proposal(add_months(start.value, 12 * years), 0.55, m.start(), m.end())
    return None


_RANGE_SEP = re.compile(
    r"\s*,?\s*(?:to|until|through|thru|-|–|and\s+(?:ending|expiring|terminating|continue\s+until|"
    r"continuing\s+(?:until|through)|expire)(?:\s+on)?|ending(?:\s+on)?)\s+(?:and\s+including\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)


_RANGE_START = re.compile(
    r"\b(?:from|beginning|commencing|starting|begin|commence)(?=\s+(?:on\s+)?(?:the\s+)?"
    r"(?:\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s))",
    re.IGNORECASE,
)


def _date_range_end(text: str) -> Proposal | None:
    """The end of a term written as a range: "from February 8, 2018 to May 3, 2018"."""
    for m in _RANGE_START.finditer(text):
        s, e = _sentence(text, m.start(), m.end())
        if not re.search(r"\bterm\b|agreement|contract|project|venture", text[s:e], re.I):
            continue
        if re.search(r"\bduring\b", text[max(s, m.start() - 40) : m.start()], re.I):
            continue  # a period inside the term ("during the period beginning ...")
        dates = find_dates(text[m.end() : m.end() + 120])
        if len(dates) < 2 or dates[0].start > 12:
            continue
        first, second = dates[0], dates[1]
        between = text[m.end() + first.end : m.end() + second.start]
        if _RANGE_SEP.match(between) and second.value > first.value:
            return Proposal(second.value, 0.6, m.end() + second.start, m.end() + second.end)
    return None


def _expiration(text: str, start: Proposal | None) -> Proposal | None:
    found = _expiration_sentence(text, start)
    if found is None:
        found = _date_range_end(text) or _anniversary_end(text, start)
    return found


def _expiration_sentence(text: str, start: Proposal | None) -> Proposal | None:
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


_TERM_CTX = re.compile(
    r"(?:successive|additional|renewal|further|extension|consecutive|automatic|renew\w*|extend\w*|periods?|terms?)"
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
        if not re.search(r"automatic|unless", sentence, re.I) and re.search(
            r"mutual(?:ly)?\s+(?:agree|agreement|understanding|consent|written)|negotiat|"
            r"(?:if|as)\s+(?:both\s+parties|the\s+parties)\s+(?:so\s+|may\s+)?agree",
            sentence,
            re.IGNORECASE,
        ):
            # a renewal the parties may agree on later is no renewal term
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
            # the initial term ("a term of four (4) years from the Effective Date")
            if re.search(
                r"(?:(?:have|for|be)\s+a\s+term\s+of|term\s+(?:of\s+this\s+\w+\s+)?(?:shall|will)\s+be)"
                r"(?:\s+for)?(?:\s+a\s+period\s+of)?\s*$",
                before,
                re.IGNORECASE,
            ) or re.match(
                r"[^.;]{0,25}?\b(?:from|after|following|commencing|beginning|starting)\s+(?:on\s+)?"
                r"(?:the\s+)?(?:effective|execution|commencement|date)",
                sentence[d.end : d.end + 70],
                re.IGNORECASE,
            ):
                continue
            found_term = d
            break
        if found_term is None and re.search(r"renew|extend", sentence, re.I):
            yearly = re.search(
                r"\b(?:annually|annual\s+(?:renewals?|periods?|terms?|basis)|(?:from\s+)?year[\s-]+to[\s-]+year|"
                r"yearly|one[\s-]year\s+basis)\b"
                r"|(?P<monthly>month[\s-]+to[\s-]+month|monthly\s+(?:periods?|terms?|basis)|one[\s-]month\s+periods?)",
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
            if notice is None and re.search(r"notice|notif", sentence, re.I):
                # "... renews for successive one-year terms unless either party gives
                # notice at least 90 days before the end of the term"
                skip = s + found_term.start if found_term is not None else -1
                notice = _notice_in(text, s, e, skip=skip)
        if found_term is not None and term is None:
            term = Proposal(found_term.months, 0.65, s + found_term.start, s + found_term.end)
            if notice is None and (is_auto or re.search(r"notice", sentence, re.I)):
                notice = _notice_in(text, s, min(len(text), e + 300), skip=term.start)
        if term is not None and auto is not None:
            break
    if notice is None and auto is not None:
        notice = _non_renewal_notice(text) or _notice_before_expiry(text)
    if notice is None:
        notice = _evergreen_notice(text) or _non_renewal_notice(text, explicit=True)
    return auto or Proposal(False, 0.5, 0, 0), term, notice


_EVERGREEN = re.compile(
    r"\b(?:continue|remain|be\s+effective)\b[^.;]{0,80}?(?:thereafter|in\s+effect|in\s+force|"
    r"(?:month|year)[\s-]+to[\s-]+(?:month|year))[^.;]{0,80}?\buntil\s+(?:terminated|either|one|a|the)\b",
    re.IGNORECASE,
)


def _evergreen_notice(text: str) -> Proposal | None:
    """The notice ending an agreement that runs on "until terminated by ... N days' notice"."""
    if not re.search(r"until\s+(?:terminated|either|one|a|the)\b", text, re.IGNORECASE):
        return None
    for m in _EVERGREEN.finditer(text):
        _s, e = _sentence(text, m.start(), m.end())
        found = _notice_in(text, m.start(), e)
        if found is not None:
            return found
    return None


_BEFORE_EXPIRY = re.compile(
    r"\b(?:prior\s+to|before|preceding)\s+(?:the\s+)?(?:expiration|expiry|end|termination)\s+(?:date\s+)?"
    r"of\s+(?:the\s+|this\s+|any\s+|such\s+|each\s+)?(?:then[\s-]+current\s+|relevant\s+|initial\s+|"
    r"renewal\s+|applicable\s+|current\s+)*(?:term|period|agreement)",
    re.IGNORECASE,
)


def _notice_before_expiry(text: str) -> Proposal | None:
    """A notice "at least 90 days prior to the expiration of the term" anywhere in the text."""
    for m in _BEFORE_EXPIRY.finditer(text):
        found = _notice_in(text, max(0, m.start() - 250), m.start())
        if found is not None and found.end >= m.start() - 40:
            return found
    return None


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
        # a cure period ("not cured within ten days of such notice") is no notice period
        if re.search(r"cure|breach|default", window[max(0, d.start - 100) : d.end + 60], re.I):
            continue
        before = window[max(0, d.start - 200) : d.start]
        after = window[d.end : d.end + 80]
        near = window[max(0, d.start - 40) : d.end + 40]
        if not (
            _NOTICE_WORD.search(near)
            or _NOTICE_WORD.search(after[:30])
            # "notice is given ..., at least ninety (90) days prior to the end of the term"
            or (
                re.search(r"notice|notif", before[-200:], re.I)
                and re.match(r"[\s'’]*(?:prior\s+to|before|in\s+advance)\b", after, re.I)
            )
        ):
            continue
        if _BEFORE_WORD.search(before[-60:] + window[d.start : d.end] + after) or re.search(
            r"notice", before, re.I
        ):
            return Proposal(d.days, 0.55, start + d.start, start + d.end)
    return None


def _non_renewal_notice(text: str, *, explicit: bool = False) -> Proposal | None:
    """The notice that stops an automatic renewal ("... at least 60 days prior to ...");
    ``explicit``: only a notice of non-renewal ("notice of its election not to renew")."""
    cue = (
        r"not\s+to\s+(?:renew|extend)|non-?renewal|nonrenewal"
        if explicit
        else r"renew|non-renewal|nonrenewal|extension"
    )
    for m in re.finditer(cue, text, re.IGNORECASE):
        s, e = _sentence(text, m.start(), m.end())
        if e - s > 1500 or not _NOTICE_WORD.search(text, s, e):
            continue
        if explicit and (
            re.search(r"insurance|polic(?:y|ies)", text[s:e], re.I)
            or not re.search(
                r"agreement|term|franchise|license|contract", text[m.end() : m.end() + 80], re.I
            )
        ):
            continue
        found = _notice_in(text, s, e)
        if found is not None:
            return found
    return None


_LAW_CUE = re.compile(
    r"governed|construed|interpreted|enforced|controlled\s+by|governing\s+law|choice\s+of\s+law|"
    r"applicable\s+law|accordance\s+with\s+the\s+(?:substantive\s+)?laws",
    re.IGNORECASE,
)
_LAWS_OF = re.compile(
    r"\blaws?\b(?:\s+and\s+(?:\w+\s+){0,2}?(?:decisions|regulations|statutes|rules))?"
    r"(?:\s+(?:in\s+force|in\s+effect|applicable|prevailing))?(?:,[^,.]{0,60},)?"
    r"\s+(?:of|in|under)\s+"
    r"(?:the\s+)?(?:internal\s+)?",
    re.IGNORECASE,
)
_X_LAW = re.compile(
    r"(?:with|under|by)\s+(?:the\s+)?(?P<name>[A-Z][A-Za-z]+(?:\s+[A-Z][a-z]+)?)\s+[Ll]aws?\b"
)
#: "English law" names England.
_LAW_ADJECTIVES = {
    "english": "England",
    "swiss": "Switzerland",
    "german": "Germany",
    "french": "France",
    "dutch": "Netherlands",
    "chinese": "China",
    "israeli": "Israel",
    "japanese": "Japan",
    "indian": "India",
    "canadian": "Canada",
    "irish": "Ireland",
    "scottish": "Scotland",
    "italian": "Italy",
    "spanish": "Spain",
    "swedish": "Sweden",
    "korean": "Korea",
    "singaporean": "Singapore",
    "singapore": "Singapore",
    "australian": "Australia",
    "mexican": "Mexico",
    "brazilian": "Brazil",
    "belgian": "Belgium",
    "danish": "Denmark",
    "norwegian": "Norway",
    "finnish": "Finland",
    "austrian": "Austria",
}
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


_WEAK_LAW_CUE = re.compile(r"applicable\s+law|interpreted|enforced")


def _law(text: str) -> Proposal | None:
    federal: Proposal | None = None
    # "governed by / construed under" first; "applicable law", "enforced" only when alone
    weak_cues: list[re.Match[str]] = []
    strong_cues = (c for c in _LAW_CUE.finditer(text) if not _weak_cue(c, weak_cues))
    for cue in itertools.chain(strong_cues, weak_cues):
        found = _law_at(text, cue)
        if found is None:
            continue
        if not found.value.lower().startswith(("united states", "the united states")):
            return found
        # federal law named first: a state's law named by a later clause is the answer
        federal = federal or found
    return federal


def _weak_cue(cue: re.Match[str], weak_cues: list[re.Match[str]]) -> bool:
    """Whether ``cue`` is weak ("applicable laws"); weak cues are kept for later."""
    if _WEAK_LAW_CUE.match(cue.group(0)):
        weak_cues.append(cue)
        return True
    return False


_US_STATE_AFTER = re.compile(
    r"\s*(?:and|or|,)\s+(?:of\s+)?(?:the\s+)?(?:laws\s+of\s+)?(?:the\s+)?(?:State|Commonwealth)\s+of\s+",
    re.I,
)


def _law_at(text: str, cue: re.Match[str]) -> Proposal | None:
    window_end = min(len(text), cue.end() + 250)
    best: Proposal | None = None
    for m in _LAWS_OF.finditer(text, max(0, cue.start() - 40), window_end):
        name = _place_name(text[m.end() : m.end() + 120])
        if (
            not name
            or name.lower() in _GENERIC
            or re.search(r"['’]s$|United\s+Nations|Convention", name, re.I)
        ):
            continue
        if name.lower().startswith(("united states", "the united states")):
            # a state named next to federal law is the answer ("U.S. and the State of X")
            after = m.end() + len(name)
            state = _US_STATE_AFTER.search(text, after - 2, after + 40)
            if state:
                place = _place_name(text[state.end() : state.end() + 80])
                if place:
                    return Proposal(place, 0.8, state.end(), state.end() + len(place))
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
    if (
        x
        and x.group("name").lower() not in _GENERIC
        and x.group("name").lower()
        not in (
            "applicable",
            "governing",
            "federal",
            "local",
            "substantive",
            "such",
            "common",
        )
    ):
        name = _LAW_ADJECTIVES.get(x.group("name").lower(), x.group("name"))
        return Proposal(name, 0.7, x.start("name"), x.end("name"))
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
    agreement, term_start = _preamble_dates(text)
    signing = Proposal(agreement.value, 0.7, agreement.start, agreement.end) if agreement else None
    put("signing_date", signing)
    effective = _effective(text, agreement or term_start)
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
