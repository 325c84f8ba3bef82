"""Phrase recall on real contracts: the clauses lawyers labelled, searched as quoted phrases.

    .venv/bin/python bench/search_recall.py [--words 8] [--spans 2]

Imports every CUAD contract text (``/work/shared/data/cuad/txt``) and every Chinese and
English customer contract (``/work/shared/data/zh-contracts``) as one document each of its
own contract and customer, through the bulk import path, into a fresh temporary data
folder (or ``QIYUE_DATA_DIR``). Then, as the administrator:

- for each labelled span of the CUAD columns below (at most ``--spans`` per column and
  contract), its first ``--words`` words as a quoted phrase;
- for each contract of ``zh-contracts``, its labelled title, parties and dispute venue,
  quoted as they are,

searched with a filter on the contract's own customer, so the count says whether that
contract was found. A miss is printed with its query. CUAD's spans join the pieces of a
clause with "<omitted>"; such a span is not text of the contract, and its misses are
counted apart. Also counted: found hits whose snippet marks nothing. Not a timed
benchmark: it prints what was found, not how fast.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

CUAD_COLUMNS = (
    "Parties",
    "Agreement Date",
    "Effective Date",
    "Expiration Date",
    "Renewal Term",
    "Notice Period To Terminate Renewal",
    "Governing Law",
    "Termination For Convenience",
    "Anti-Assignment",
    "License Grant",
    "Cap On Liability",
    "Insurance",
    "Audit Rights",
)
ZH_KEYS = ("title", "party_a", "party_b", "dispute_venue")
OMITTED = "<omitted>"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=8, help="words of a span to search")
    parser.add_argument("--spans", type=int, default=2, help="spans per column and contract")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import generate  # bench/generate.py: the shared setup and data paths

    generate.setup(temp_prefix="qy-bench-recall-")
    generate.generate(0, 0)  # the organisation
    from qiyue.accounts.models import User
    from qiyue.contracts.bulk import import_contracts
    from qiyue.contracts.models import Contract
    from qiyue.search.queries import search_filters, search_for

    admin = User.objects.get(username="admin")
    cuad, zh = generate.SHARED / "cuad", generate.SHARED / "zh-contracts"
    rows: list[dict[str, Any]] = []
    for n, path in enumerate(sorted((cuad / "txt").glob("*.txt"))):
        text = path.read_text(encoding="utf-8", errors="replace")
        rows.append(_row(path.name, f"CUAD customer {n:04d}", text))
    for path in sorted(zh.glob("*.txt")):
        rows.append(_row(path.name, f"Customer of {path.stem}", path.read_text("utf-8")))
    started = time.perf_counter()
    result = import_contracts(admin, rows, batch_size=200)
    assert not result.errors, result.errors[:3]
    print(f"imported {len(result.created)} contracts with their texts", end=" ")
    print(f"in {time.perf_counter() - started:.1f} s")
    customer_of = dict(Contract.objects.values_list("title", "counterparty_id"))

    found = asked = unmarked = 0
    missed: list[tuple[str, str, str]] = []
    omitted_missed = omitted_asked = 0

    def ask(title: str, label: str, query: str) -> None:
        nonlocal found, asked, unmarked, omitted_missed, omitted_asked
        filters = search_filters({"customer": str(customer_of[title])}, user=admin)
        hits = search_for(admin, query, filters=filters, page_size=1)
        joined = OMITTED in query
        asked += not joined
        omitted_asked += joined
        if hits.total:
            found += not joined
            unmarked += "<mark>" not in hits.items[0].snippet
        elif joined:
            omitted_missed += 1
        else:
            missed.append((title, label, query))

    csv.field_size_limit(sys.maxsize)
    with (cuad / "labels.csv").open(encoding="utf-8") as labels:
        for record in csv.DictReader(labels):
            title = _title(Path(record["Filename"]).stem + ".txt")
            if title not in customer_of:
                continue
            for column in CUAD_COLUMNS:
                for span in _spans(record.get(column))[: args.spans]:
                    words = [w.replace('"', "") for w in span.split()][: args.words]
                    if len(words) >= 2:
                        ask(title, column, '"' + " ".join(words)[:190] + '"')
    for path in sorted(zh.glob("*.json")):
        labelled = json.loads(path.read_text("utf-8"))
        for key in ZH_KEYS:
            value = labelled.get(key)
            if isinstance(value, str) and value.strip():
                ask(_title(path.stem + ".txt"), key, '"' + value.replace('"', "")[:190] + '"')

    for title, label, query in missed:
        print(f"missed  {label:<36} {query}  ({title[:60]})")
    print(f"phrases with {OMITTED} (not text of the contract): {omitted_asked}, ", end="")
    print(f"not found {omitted_missed}")
    print(f"snippets of found hits without a mark: {unmarked}")
    print(f"phrase recall: {found} of {asked} labelled phrases found ({found / asked:.2%})")


def _title(name: str) -> str:
    return name[:100]


def _row(name: str, customer: str, text: str) -> dict[str, Any]:
    return {
        "title": _title(name),
        "type": "XS",
        "customer": customer,
        "document_text": text,
        "document_name": re.sub(r"[^\w.\- ]", "_", name)[:90],
    }


def _spans(cell: str | None) -> list[str]:
    """The spans of a CUAD cell (a Python list literal of strings)."""
    try:
        spans = ast.literal_eval(cell or "[]")
    except (ValueError, SyntaxError):
        return []
    return [s for s in spans if isinstance(s, str)]


if __name__ == "__main__":
    main()
