"""``qiyue compliance check [--contract ID] [--all]``: check contracts against the rules
now (after an upgrade, or to see a rule's effect); ``qiyue compliance install-sales-rules``:
add the ready-made rule set for Chinese sales contracts (as the first administrator)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.compliance import actions


class Command(BaseCommand):
    help = "Compliance: check contracts now, or install the sales rule set."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        check = sub.add_parser("check", help="check contracts against the enabled rules")
        check.add_argument("--contract", type=int, help="only this contract id")
        check.add_argument(
            "--all", action="store_true", help="every contract, not only the open ones"
        )
        sub.add_parser("install-sales-rules", help="add the Chinese sales contract rule set")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["verb"] == "install-sales-rules":
            self._install()
            return
        from qiyue.compliance.tasks import OPEN_STATES
        from qiyue.contracts.models import Contract

        contracts = Contract.objects.order_by("pk")
        if opts["contract"] is not None:
            contracts = contracts.filter(pk=opts["contract"])
            if not contracts.exists():
                raise CommandError(f"no contract {opts['contract']}")
        elif not opts["all"]:
            contracts = contracts.filter(state__in=OPEN_STATES)
        levels: Counter[str] = Counter()
        for contract_id in contracts.values_list("pk", flat=True).iterator():
            risk = actions.check_contract(contract_id)
            if risk is not None:
                levels[str(risk.level)] += 1
        total = sum(levels.values())
        summary = ", ".join(f"{level} {levels[level]}" for level in ("high", "medium", "low"))
        self.stdout.write(f"{total} contracts checked: {summary}")

    def _install(self) -> None:
        from qiyue.accounts.models import User
        from qiyue.compliance.ruleset import install_sales_rules

        admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if admin is None:
            raise CommandError("no active administrator to record as the rules' author")
        created = install_sales_rules(actor=admin)
        self.stdout.write(f"{len(created)} rules added")
