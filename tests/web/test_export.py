"""CSV export of the contract list: only what the user may export, filters applied,
formula injection neutralised, audited."""

from __future__ import annotations

import csv
import io
from typing import Any

from qiyue.audit.models import AuditEvent
from qiyue.lib.csvsafe import safe_cell
from tests.factories import make_contract


def _rows(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_owner_exports_own_contracts_as_csv(login: Any, org: Any) -> None:
    mine = make_contract(org.sales1, title="导出测试合同")
    response = login(org.sales1).get("/contracts/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(response)
    assert [r[0] for r in rows[1:]] == [mine.number]
    assert rows[1][1] == "导出测试合同"


def test_outsider_export_leaves_out_contracts_of_other_department(login: Any, org: Any) -> None:
    make_contract(org.sales1)
    theirs = make_contract(org.sales2)
    rows = _rows(login(org.sales2).get("/contracts/export.csv"))
    assert [r[0] for r in rows[1:]] == [theirs.number]


def test_export_applies_the_list_filters(login: Any, org: Any) -> None:
    make_contract(org.sales1, state="active")
    draft = make_contract(org.sales1)
    rows = _rows(login(org.sales1).get("/contracts/export.csv?state=draft"))
    assert [r[0] for r in rows[1:]] == [draft.number]


def test_export_neutralises_formulas_in_cells(login: Any, org: Any) -> None:
    make_contract(org.sales1, title="=cmd|' /C calc'!A0")
    rows = _rows(login(org.sales1).get("/contracts/export.csv"))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"


def test_export_is_audited(login: Any, org: Any) -> None:
    make_contract(org.sales1)
    _rows(login(org.sales1).get("/contracts/export.csv?state=draft"))
    event = AuditEvent.objects.filter(action="contract.exported").get()
    assert event.actor == org.sales1
    assert event.data["filters"] == {"state": "draft"}


def test_bad_filter_on_export_is_a_clear_400(login: Any, org: Any) -> None:
    response = login(org.sales1).get("/contracts/export.csv?amount_min=abc")
    assert response.status_code == 400


def test_anonymous_export_redirects_to_login(client: Any, org: Any) -> None:
    response = client.get("/contracts/export.csv")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_safe_cell_keeps_negative_numbers_and_quotes_formulas() -> None:
    assert safe_cell("-12.5") == "-12.5"
    assert safe_cell("-1+1") == "'-1+1"
    for risky in ["=1+1", "+1", "@SUM(A1)", "\tx", "\rx"]:
        assert safe_cell(risky).startswith("'")
    assert safe_cell(None) == ""
    assert safe_cell("合同") == "合同"


def test_viewer_without_export_permission_gets_404(login: Any, org: Any) -> None:
    make_contract(org.sales1)
    assert login(org.viewer).get("/contracts/export.csv").status_code == 404
