"""``qiyue compliance``: install the sales rules and check contracts from the command line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from qiyue.compliance import queries
from qiyue.compliance.models import Rule
from qiyue.compliance.ruleset import SALES_RULES
from tests.factories import make_contract

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("compliance", *args, stdout=out)
    return out.getvalue()


def test_install_then_check(org: Any, docs: Path) -> None:
    big = make_contract(org.sales1, amount="2000000", currency="EUR")
    assert run("install-sales-rules") == f"{len(SALES_RULES)} rules added\n"
    assert Rule.objects.count() == len(SALES_RULES)
    assert run("install-sales-rules") == "0 rules added\n"
    assert run("check") == "1 contracts checked: high 0, medium 1, low 0\n"
    assert queries.risk_level(big) == "medium"
    assert run("check", "--contract", str(big.pk)).startswith("1 contracts checked")
    with pytest.raises(CommandError):
        run("check", "--contract", "999999")
