"""Benchmark data: N contracts and M documents, through the product's bulk import path.

    QIYUE_DATA_DIR=var/bench-100k .venv/bin/python bench/generate.py \
        [--contracts 100000] [--documents 20000] [--batch 2000] [--seed 5]

Builds, in the data folder given by ``QIYUE_DATA_DIR`` (or the database of
``DATABASE_URL``), the demo organisation plus eight more sales people, about one customer
per twenty contracts, and N contracts with realistic fields (type, state, amount, dates,
owner and so their department, tags and notes on some). M of them get one text document
each, made of passages from ``/work/shared/data/cuad/txt`` (English) and
``/work/shared/data/zh-contracts`` (Chinese, about 30% of the documents). Everything goes
through :func:`qiyue.contracts.bulk.import_contracts` as the administrator: validation,
customers, numbers, audit events, encrypted documents and the search index. Prints the
throughput; writes ``bench-data.json`` (the sizes) into the data folder when done, which
``bench/search.py`` reads to reuse the data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SHARED = Path("/work/shared/data")
MARKER = "bench-data.json"
EXTRA_SALES = [f"sales{n}" for n in range(3, 11)]
STATES = [  # (state, weight): most contracts of a company are running or over
    ("draft", 8),
    ("in_review", 4),
    ("approved", 2),
    ("signing", 2),
    ("active", 45),
    ("expired", 20),
    ("terminated", 4),
    ("renewed", 5),
    ("archived", 10),
]
TITLES = {
    "XS": [
        "{p}年度软件许可合同",
        "{p}设备销售合同",
        "{p}数据服务销售合同",
        "Sales Agreement with {p}",
    ],
    "FW": ["{p}系统集成服务合同", "{p}运维服务协议", "Master Services Agreement ({p})"],
    "CG": ["{p}设备采购合同", "{p}原材料采购合同", "Supply Agreement - {p}"],
    "KJ": ["{p}战略合作框架协议", "Framework Agreement {p}"],
    "BM": ["{p}保密协议", "Mutual Non-Disclosure Agreement ({p})"],
}
CITIES = [
    "北京",
    "上海",
    "深圳",
    "杭州",
    "广州",
    "成都",
    "南京",
    "苏州",
    "武汉",
    "西安",
    "天津",
    "重庆",
]
WORDS = [
    "华信",
    "云启",
    "博远",
    "恒通",
    "星河",
    "启明",
    "中科",
    "瑞丰",
    "长风",
    "鼎盛",
    "海纳",
    "天合",
    "金桥",
    "东方",
    "新元",
    "智联",
    "汇通",
    "宏达",
]
TRADES = ["科技", "制造", "物流", "医疗器械", "新能源", "商贸", "信息技术", "建设工程"]
EN_NAMES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
]
EN_KINDS = ["Holdings", "Technologies", "Logistics", "Pharma", "Energy", "Systems"]
TAGS = ["战略客户", "续约风险", "重点项目", "renewal-risk", "政府项目", "框架下单"]
NOTES = [
    "客户要求每季度对账一次。",
    "Renewal to be discussed with procurement in Q3.",
    "付款节点以验收报告为准。",
    "Customer asked for a governing law change to Singapore.",
    "含税价，税率13%。",
]


def setup(temp_prefix: str = "") -> None:
    """Django on the bench's data folder (``QIYUE_DATA_DIR``, or the database of
    ``DATABASE_URL``), migrated; with ``temp_prefix``, a fresh temporary folder when
    ``QIYUE_DATA_DIR`` is not set. Shared by the bench scripts."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    if temp_prefix:
        os.environ.setdefault("QIYUE_DATA_DIR", tempfile.mkdtemp(prefix=temp_prefix))
    if not os.environ.get("QIYUE_DATA_DIR") and not os.environ.get("DATABASE_URL"):
        sys.exit("set QIYUE_DATA_DIR (the folder to fill) or DATABASE_URL")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qiyue.settings")
    os.environ.pop("QIYUE_STORAGE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def passages() -> tuple[list[str], list[str]]:
    """English passages (paragraphs of CUAD contracts) and Chinese ones (clauses of the
    zh-contracts), each of 80–1,500 characters."""
    en: list[str] = []
    for path in sorted((SHARED / "cuad" / "txt").glob("*.txt"))[:120]:
        text = path.read_text(encoding="utf-8", errors="replace")
        en += [p.strip() for p in text.split("\n\n") if 80 <= len(p.strip()) <= 1500]
    zh: list[str] = []
    for path in sorted((SHARED / "zh-contracts").glob("zh-*.txt")):
        lines = [s.strip() for s in path.read_text(encoding="utf-8").splitlines()]
        block: list[str] = []
        for line in lines:
            if line:
                block.append(line)
            if sum(len(b) for b in block) >= 200 or (not line and block):
                text = "\n".join(block)
                if len(text) >= 40:
                    zh.append(text[:1500])
                block = []
    return en, zh


def party_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    while len(out) < count:
        if rng.random() < 0.8:
            word = rng.choice(WORDS) + rng.choice(WORDS)
            name = f"{rng.choice(CITIES)}{word}{rng.choice(TRADES)}有限公司"
            if name in out:
                name = f"{rng.choice(CITIES)}{word}{rng.choice(TRADES)}{len(out)}有限公司"
            short = word
        else:
            short = f"{rng.choice(EN_NAMES)} {rng.choice(EN_KINDS)}"
            name = f"{short} {len(out)} Ltd."
        out.setdefault(name, short)
    return list(out.items())


def rows(
    rng: random.Random,
    count: int,
    documents: int,
    owners: list[str],
    parties: list[tuple[str, str]],
    en: list[str],
    zh: list[str],
) -> Any:
    with_doc = set(rng.sample(range(count), min(documents, count)))
    states, weights = zip(*STATES, strict=True)
    today = date(2026, 11, 26)
    for i in range(count):
        code = rng.choice(list(TITLES))
        party, short = rng.choice(parties)
        state = rng.choices(states, weights)[0]
        signed = today - timedelta(days=rng.randint(0, 5 * 365))
        effective = signed + timedelta(days=rng.randint(0, 30))
        expiry = effective + timedelta(days=rng.choice([180, 365, 730, 1095]))
        row: dict[str, Any] = {
            "title": rng.choice(TITLES[code]).format(p=short),
            "type": code,
            "customer": party,
            "customer_short_name": short,
            "owner": rng.choice(owners),
            "state": state,
            "amount": f"{rng.randint(1, 500_000) * 100}.{rng.randint(0, 99):02d}",
            "currency": "CNY" if rng.random() < 0.9 else "USD",
            "tax_rate": rng.choice(["6", "9", "13", ""]),
            "signed_date": "" if state in ("draft", "in_review") else signed.isoformat(),
            "effective_date": effective.isoformat(),
            "expiry_date": expiry.isoformat(),
            "auto_renew": "true" if rng.random() < 0.3 else "false",
            "notice_period_days": rng.choice(["", "30", "60", "90"]),
        }
        if rng.random() < 0.1:
            row["tags"] = ",".join(rng.sample(TAGS, rng.randint(1, 2)))
        if rng.random() < 0.1:
            row["notes"] = rng.choice(NOTES)
        if i in with_doc:
            chinese = rng.random() < 0.3
            pool = zh if chinese else en
            text = "\n\n".join(rng.choice(pool) for _ in range(rng.randint(2, 5)))
            row["document_name"] = ("合同正文" if chinese else "agreement") + f"-{i}.txt"
            row["document_text"] = text
        yield row


def generate(contracts: int, documents: int, *, batch: int = 2000, seed: int = 5) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from qiyue.accounts import actions as account_actions
    from qiyue.contracts.bulk import import_contracts
    from qiyue.demo import ensure_org
    from qiyue.search.backends import get_backend

    get_backend().create_tables()
    rng = random.Random(seed)
    base = ensure_org()
    users, depts, roles = base["users"], base["departments"], base["roles"]
    from qiyue.accounts.models import User

    for n, username in enumerate(EXTRA_SALES):
        if not User.objects.filter(username=username).exists():
            account_actions.create_user(
                actor=None,
                username=username,
                password=None,
                department=depts["销售一部" if n % 2 else "销售二部"],
                role=roles["sales"],
            )
    owners = ["sales1", "sales2", *EXTRA_SALES, "manager"]
    en, zh = passages()
    parties = party_names(rng, max(10, contracts // 20))
    started = time.perf_counter()
    done = docs = refused = 0
    chunk = 10_000
    for start in range(0, contracts, chunk):
        size = min(chunk, contracts - start)
        share = documents * size // contracts
        result = import_contracts(
            users["admin"], rows(rng, size, share, owners, parties, en, zh), batch_size=batch
        )
        done += len(result.created)
        docs += result.documents
        refused += len(result.errors)
        for error in result.errors[:3]:
            print(f"  refused line {error.line}: {error}")
        elapsed = time.perf_counter() - started
        print(
            f"  {done:>8} contracts, {docs:>6} documents, {elapsed:7.1f} s, "
            f"{done / elapsed:7.0f} contracts/s",
            flush=True,
        )
    elapsed = time.perf_counter() - started
    # What the import's job does once the server's worker runs it (the jobs of this
    # process are only queued): the index merged, as after any large import.
    merging = time.perf_counter()
    get_backend().optimize()
    print(f"  search index merged in {time.perf_counter() - merging:.1f} s", flush=True)
    summary = {
        "contracts": done,
        "documents": docs,
        "refused": refused,
        "seconds": round(elapsed, 1),
        "database": connection.vendor,
    }
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would gather them soon after a bulk load: with
        # the empty tables' estimates the planner scans whole tables for a page of hits.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    marker = Path(settings.DATA_DIR) / MARKER
    previous = json.loads(marker.read_text()) if marker.exists() else {}
    total = {
        "contracts": previous.get("contracts", 0) + done,
        "documents": previous.get("documents", 0) + docs,
        "database": connection.vendor,
    }
    marker.write_text(json.dumps(total))
    print(f"database: {connection.vendor}; data folder {settings.DATA_DIR}")
    print(f"generated {done} contracts and {docs} documents in {elapsed:.1f} s ({refused} refused)")
    print(f"throughput {done / elapsed:.0f} contracts/s, {docs / elapsed:.0f} documents/s")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    setup()
    generate(args.contracts, args.documents, batch=args.batch, seed=args.seed)


if __name__ == "__main__":
    main()
