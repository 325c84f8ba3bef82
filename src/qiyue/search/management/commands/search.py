"""``qiyue search "QUERY" --as USERNAME [--json]``, ``qiyue search reindex`` and
``qiyue search optimize``.

The search prints the hits the user may see, best first: one line each, or with
``--json`` one JSON object per line with ``contract_id``, ``number``, ``title``, ``score``,
``snippet`` (and ``where``). ``reindex`` rebuilds the whole index into a shadow index,
in chunks, resuming an interrupted rebuild, and swaps it in when complete; searches keep
using the old index meanwhile. ``optimize`` merges the index's pieces after many writes
(a rebuild and a large import do it themselves)."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.contracts.queries import FilterError, parse_filters
from qiyue.search import indexing
from qiyue.search.backends import get_backend
from qiyue.search.queries import search_for
from qiyue.search.query import SearchError

TAGS = re.compile(r"</?mark>")


class Command(BaseCommand):
    help = (
        'Search contracts as a user (qiyue search "QUERY" --as USERNAME), '
        "rebuild the index (qiyue search reindex) or merge its pieces (qiyue search optimize)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query", nargs="+", help='the query, "reindex" or "optimize"')
        parser.add_argument("--as", dest="username", help="search as this user")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")
        parser.add_argument("--limit", type=int, default=20, help="hits to print (1-200)")
        parser.add_argument("--sort", default="relevance", help="relevance, -signed, -created…")
        parser.add_argument("--state", default="", help="comma-separated states")
        parser.add_argument("--chunk", type=int, default=indexing.DEFAULT_CHUNK)
        parser.add_argument(
            "--restart", action="store_true", help="reindex: start over, do not resume"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        words: list[str] = opts["query"]
        if words == ["reindex"] and not opts["username"]:
            self._reindex(chunk=max(1, opts["chunk"]), restart=opts["restart"])
            return
        if words == ["optimize"] and not opts["username"]:
            started = time.monotonic()
            tables = get_backend().optimize()
            self.stdout.write(
                f"ok search index merged ({tables} tables) in {time.monotonic() - started:.1f} s"
            )
            return
        if not opts["username"]:
            raise CommandError("say whose permissions to search with: --as USERNAME")
        user = get_user_model().objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {opts['username']!r}")
        try:
            filters = parse_filters({"state": opts["state"]}, user=user)
            results = search_for(
                user,
                " ".join(words),
                filters=filters,
                sort=opts["sort"],
                page_size=opts["limit"],
            )
        except (SearchError, FilterError) as exc:
            raise CommandError(str(exc)) from None
        for item in results.items:
            if opts["json"]:
                row = {
                    "contract_id": item.contract_id,
                    "number": item.number,
                    "title": item.title,
                    "score": item.score,
                    "snippet": item.snippet,
                    "where": item.where,
                }
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                text = html.unescape(TAGS.sub("", item.snippet))
                self.stdout.write(f"{item.number}\t{item.title}\t{item.score:.3f}\t{text}")
        if not opts["json"]:
            more = "" if results.exact else "more than "
            noun = "contract" if results.total == 1 else "contracts"
            self.stderr.write(f"{more}{results.total} {noun} found")

    def _reindex(self, *, chunk: int, restart: bool) -> None:
        started = time.monotonic()

        def progress(done: int, last_id: int) -> None:
            self.stderr.write(f"indexed {done} contracts (up to id {last_id})")

        indexing.rebuild(chunk=chunk, restart=restart, progress=progress)
        self.stdout.write(f"ok search index rebuilt in {time.monotonic() - started:.1f} s")
