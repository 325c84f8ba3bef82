"""Run a test's work in separate processes against the test database (PostgreSQL only:
the processes share it). Each ``target(env, args, queue)`` sets Django up from ``env``
and puts its result on ``queue``."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.db import connection


def child_database_url() -> str:
    """The URL of the database this test runs on (not the configured one)."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return (
        f"postgres://{s['USER'] or 'postgres'}{password}"
        f"@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )


def in_processes(
    target: Callable[[dict[str, str], Any, Any], None],
    args: Sequence[Any],
    *,
    timeout: float = 120,
) -> list[Any]:
    """Start one spawned process per item of ``args`` at once; their results, in the
    order they arrived."""
    env = {
        "DJANGO_SETTINGS_MODULE": "qiyue.settings",
        "DATABASE_URL": child_database_url(),
        "QIYUE_DATA_DIR": os.environ.get("QIYUE_DATA_DIR", str(Path.cwd() / "var")),
    }
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(env, a, queue)) for a in args]
    for p in procs:
        p.start()
    results = [queue.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(30)
    return results
