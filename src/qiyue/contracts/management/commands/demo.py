"""``qiyue demo``: load the demo organisation, customers and contracts (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load demo data: departments, users, 30 customers and 200 contracts."

    def handle(self, *args: Any, **opts: Any) -> None:
        from qiyue.demo import DEMO_PASSWORD, load_demo

        summary = load_demo()
        self.stdout.write(
            f"Demo data ready: {summary['users']} users, {summary['parties']} customers, "
            f"{summary['contracts']} contracts. Log in as admin, sales1, sales2, legal, "
            f"finance or manager with the password {DEMO_PASSWORD!r}."
        )
