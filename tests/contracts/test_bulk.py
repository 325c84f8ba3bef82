"""Bulk import of contracts: the same checks as create_contract, row errors with line
numbers, audit events, search, permissions, and the ``qiyue import contracts`` command."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from qiyue.audit.models import AuditEvent
from qiyue.contracts.actions import NotAllowed
from qiyue.contracts.bulk import ImportRefused, import_contracts, read_rows
from qiyue.contracts.models import Contract
from qiyue.documents.models import DocumentVersion
from qiyue.documents.queries import version_pages
from qiyue.parties.models import Party
from qiyue.search.queries import search_for
from tests.documents.conftest import keyring  # noqa: F401  (the master key fixture)
from tests.documents.test_documents import docs  # noqa: F401  (blob storage fixture)
from tests.factories import make_party

HEADER = "title,type,customer,amount,signed_date,expiry_date,tags,notes\n"


def csv_rows(body: str, header: str = HEADER) -> Iterator[tuple[int, dict[str, Any]]]:
    return read_rows(io.BytesIO((header + body).encode("utf-8")), "csv")


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    @contextmanager
    def _committed() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return _committed


def test_valid_rows_are_imported_with_numbers_customers_and_audit(org: SimpleNamespace) -> None:
    existing = make_party(org.sales1, name="北京星辰科技有限公司")
    result = import_contracts(
        org.sales1,
        csv_rows(
            '设备采购合同,XS,北京星辰科技有限公司,120000.50,2026-01-05,2027-01-04,"战略,年度",\n'
            "Software licence,FW,Acme Corporation,,,,,renews yearly\n"
        ),
    )
    assert result.errors == []
    assert len(result.created) == 2 and result.parties_created == 1
    first, second = Contract.objects.filter(pk__in=result.created).order_by("pk")
    assert first.counterparty_id == existing.pk
    assert str(first.amount) == "120000.50"
    assert sorted(t.name for t in first.tags.all()) == ["年度", "战略"]
    assert first.owner == org.sales1 and first.department_id == org.sales1.department_id
    assert first.state == "draft" and first.number.startswith("XS-")
    assert second.counterparty.name == "Acme Corporation" and second.amount is None
    assert second.number != first.number
    events = AuditEvent.objects.filter(action="contract.created", target_type="contract")
    assert {int(e.target_id) for e in events} >= set(result.created)
    event = events.get(target_id=str(first.pk))
    assert event.actor_id == org.sales1.pk and event.data["via"] == "import"
    assert event.data["after"]["number"] == first.number
    assert AuditEvent.objects.filter(
        action="party.created", target_id=str(second.counterparty_id)
    ).exists()


def test_bad_rows_are_reported_by_line_and_valid_rows_still_imported(
    org: SimpleNamespace,
) -> None:
    body = (
        "好合同,XS,客户甲有限公司,100,,,,\n"  # line 2: fine
        ",XS,客户甲有限公司,100,,,,\n"  # line 3: no title
        "坏金额,XS,客户甲有限公司,-5,,,,\n"  # line 4: negative amount
        "坏类型,NOPE,客户甲有限公司,1,,,,\n"  # line 5: unknown type
        "坏日期,XS,客户甲有限公司,1,2026-13-01,,,\n"  # line 6: bad date
        '"多行\n标题",XS,,1,2027-01-01,2026-01-01,,\n'  # line 7: no customer, signed after expiry
    )
    with translation.override("en"):
        result = import_contracts(org.sales1, csv_rows(body))
        messages = {e.line: str(e) for e in result.errors}
    assert len(result.created) == 1
    assert Contract.objects.filter(title="好合同").count() == 1
    assert sorted(messages) == [3, 4, 5, 6, 7]
    assert "title: A contract needs a title." in messages[3]
    assert messages[4].startswith("amount: Enter a non-negative amount")
    assert messages[5] == "type: Choose one of the contract types."
    assert messages[6] == "signed_date: Enter a date as YYYY-MM-DD."
    assert "customer: This field is required." in messages[7]
    assert "signed_date: The signing date must not be after the expiry date." in messages[7]


def test_all_or_nothing_imports_nothing_when_a_row_is_refused(org: SimpleNamespace) -> None:
    before = Contract.objects.count(), Party.objects.count(), AuditEvent.objects.count()
    result = import_contracts(
        org.sales1,
        csv_rows("好合同,XS,新客户有限公司,100,,,,\n坏合同,XS,新客户有限公司,abc,,,,\n"),
        all_or_nothing=True,
    )
    assert [e.line for e in result.errors] == [3] and result.created == []
    after = Contract.objects.count(), Party.objects.count(), AuditEvent.objects.count()
    assert after == before


def test_formula_cells_and_script_are_stored_as_text(org: SimpleNamespace) -> None:
    title = '=HYPERLINK("http://evil.example","点我")'
    notes = "<script>alert(1)</script>"
    result = import_contracts(
        org.sales1,
        [{"title": title, "type": "XS", "customer": "+cmd|' /C calc'!A0", "notes": notes}],
    )
    assert result.errors == []
    contract = Contract.objects.get(pk=result.created[0])
    assert contract.title == title and contract.notes == notes
    assert contract.counterparty.name == "+cmd|' /C calc'!A0"
    with translation.override("en"):
        bad = import_contracts(
            org.sales1, [{"title": "x", "type": "XS", "customer": "c", "amount": "=1+1"}]
        )
    assert bad.created == [] and "amount" in bad.errors[0].errors


def test_unknown_columns_and_bad_jsonl_lines_are_refused(org: SimpleNamespace) -> None:
    data = "\n".join(
        [
            json.dumps({"title": "一", "type": "XS", "customer": "客户乙有限公司"}),
            "{not json",
            json.dumps({"title": "二", "type": "XS", "customer": "客户乙有限公司", "id": 5}),
            json.dumps(["a list"]),
        ]
    )
    with translation.override("en"):
        result = import_contracts(org.sales1, read_rows(io.BytesIO(data.encode()), "jsonl"))
        messages = {e.line: str(e) for e in result.errors}
    assert len(result.created) == 1
    assert messages == {
        2: "Not a JSON object.",
        3: "Unknown fields: id",
        4: "Not a JSON object.",
    }


def test_oversized_file_is_refused_before_anything_is_read(org: SimpleNamespace) -> None:
    with translation.override("en"), pytest.raises(ImportRefused, match="larger than the limit"):
        list(read_rows(io.BytesIO(b"x" * 2000), "csv", max_bytes=1000))


def test_a_user_without_contract_create_cannot_import(org: SimpleNamespace) -> None:
    assert not org.viewer.has_perm_code("contract.create")
    with pytest.raises(NotAllowed):
        import_contracts(org.viewer, [{"title": "x", "type": "XS", "customer": "c"}])
    assert not Contract.objects.filter(title="x").exists()


def test_owner_and_state_follow_the_rules_of_create_contract(org: SimpleNamespace) -> None:
    rows = [
        {"title": "给别人", "type": "XS", "customer": "客户丙有限公司", "owner": "colleague"},
        {"title": "直接生效", "type": "XS", "customer": "客户丙有限公司", "state": "active"},
        {"title": "未知人", "type": "XS", "customer": "客户丙有限公司", "owner": "nobody"},
    ]
    with translation.override("en"):
        result = import_contracts(org.sales1, rows)
        errors = {e.line: e.errors for e in result.errors}
    assert result.created == []
    assert errors[1] == {"owner": "Only administrators may assign contracts to others."}
    assert "state" in errors[2]
    assert errors[3] == {"owner": "No such user: nobody"}
    # An administrator may import for others and in any state (a migration).
    result = import_contracts(org.admin, rows[:2])
    assert result.errors == []
    owned = Contract.objects.get(title="给别人")
    assert owned.owner == org.colleague and owned.department_id == org.colleague.department_id
    assert Contract.objects.get(title="直接生效").state == "active"


def test_a_customer_the_user_cannot_see_is_refused(org: SimpleNamespace) -> None:
    make_party(org.sales2, name="别人的客户有限公司")
    with translation.override("en"):
        result = import_contracts(
            org.sales1, [{"title": "x", "type": "XS", "customer": "别人的客户有限公司"}]
        )
    assert result.created == []
    assert result.errors[0].errors == {"customer": "Choose a customer you can see."}


def test_a_large_import_has_the_search_index_merged_afterwards(
    org: SimpleNamespace, committed: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch is written to the index as a piece of its own: an import of at least
    OPTIMIZE_AFTER contracts queues one job that merges them; a smaller one, or one that
    does not index, does not."""
    from qiyue.contracts import bulk
    from qiyue.search import tasks

    merged: list[str] = []
    monkeypatch.setattr(tasks, "optimize_index_task", lambda: merged.append("job"))
    monkeypatch.setattr(bulk, "OPTIMIZE_AFTER", 3)
    rows = [{"title": f"合同{i}", "type": "XS", "customer": "远航贸易有限公司"} for i in range(3)]
    with committed():
        import_contracts(org.sales1, rows[:2], batch_size=1)
    assert merged == []
    with committed():
        import_contracts(org.sales1, rows, batch_size=1, index=False)
    assert merged == []
    with committed():
        result = import_contracts(org.sales1, rows, batch_size=1)
    assert len(result.created) == 3 and merged == ["job"]
    with committed():
        import_contracts(org.sales1, rows, batch_size=2, all_or_nothing=True)
    assert merged == ["job", "job"]


def test_imported_contracts_and_documents_are_found_by_search(
    org: SimpleNamespace,
    docs: Path,  # noqa: F811
    committed: Callable[[], Any],
) -> None:
    with committed():
        result = import_contracts(
            org.sales1,
            [
                {
                    "title": "进口设备合同",
                    "type": "CG",
                    "customer": "远航贸易有限公司",
                    "document_name": "正文.txt",
                    "document_text": "甲方逾期付款的，应支付违约金。Governing law: New York.",
                },
                {"title": "Plain licence", "type": "XS", "customer": "远航贸易有限公司"},
            ],
            batch_size=1,
        )
    assert result.errors == [] and result.documents == 1
    contract = Contract.objects.get(title="进口设备合同")
    version = DocumentVersion.objects.get(document__contract=contract)
    assert version.text_status == "ok"
    pages = version_pages(version)
    assert pages and pages[0]["text"].startswith("甲方逾期付款")
    assert AuditEvent.objects.filter(
        action="document.uploaded", target_id=str(contract.pk)
    ).exists()
    for query in ("违约金", "governing law", "进口设备", "licence"):
        ids = {i.contract_id for i in search_for(org.sales1, query).items}
        assert ids & set(result.created), query
    found = search_for(org.sales1, "违约金")
    assert [i.contract_id for i in found.items] == [contract.pk]
    assert "<mark>违约金</mark>" in found.items[0].snippet
    assert search_for(org.sales2, "违约金").total == 0


def test_cli_prints_counts_and_row_errors(org: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "contracts.csv"
    path.write_text(
        "\ufeff" + HEADER + "命令行合同,XS,客户丁有限公司,10,,,,\n坏行,XS,客户丁有限公司,x,,,,\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"), pytest.raises(SystemExit) as exit_:
        call_command("import", "contracts", str(path), "--as", "sales1", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "1 contracts imported" in out.getvalue() and "1 rows refused" in out.getvalue()
    assert "line 3: amount:" in err.getvalue()
    assert Contract.objects.filter(title="命令行合同").exists()


def test_cli_all_or_nothing_and_oversized_file(
    org: SimpleNamespace, tmp_path: Path, settings: Any
) -> None:
    path = tmp_path / "contracts.csv"
    path.write_text(HEADER + "整体合同,XS,客户戊有限公司,10,,,,\n坏行,NOPE,客户戊有限公司,1,,,,\n")
    err = io.StringIO()
    with translation.override("en"), pytest.raises(SystemExit):
        call_command(
            "import",
            "contracts",
            str(path),
            "--as",
            "sales1",
            "--all-or-nothing",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert "line 3: type:" in err.getvalue() and "Nothing was imported" in err.getvalue()
    assert not Contract.objects.filter(title="整体合同").exists()
    settings.UPLOAD_MAX_BYTES = 50
    from django.core.management.base import CommandError

    with translation.override("en"), pytest.raises(CommandError, match="larger than the limit"):
        call_command("import", "contracts", str(path), "--as", "sales1", stdout=io.StringIO())


def test_imported_contracts_get_their_compliance_check_like_created_ones(
    org: SimpleNamespace, committed: Callable[[], Any]
) -> None:
    from qiyue.compliance import actions as compliance
    from qiyue.compliance.models import ContractRisk, Finding

    compliance.create_rule(
        actor=org.admin,
        data={
            "name": "金额必填",
            "kind": "required_fields",
            "required_fields": ["amount"],
            "severity": "high",
        },
        recheck=False,
    )
    with committed():
        result = import_contracts(
            org.sales1,
            [
                {"title": "无金额", "type": "XS", "customer": "甲公司"},
                {"title": "有金额", "type": "XS", "customer": "甲公司", "amount": "10"},
            ],
            index=False,
        )
    without, with_amount = result.created
    assert ContractRisk.objects.get(contract_id=without).level == "high"
    assert Finding.objects.filter(contract_id=without, code="fields_missing").exists()
    assert ContractRisk.objects.get(contract_id=with_amount).level == "low"


def test_a_csv_cell_with_a_long_document_text_is_read_and_the_rows_after_it_too(
    org: SimpleNamespace,
) -> None:
    text = "本合同正文。" * 40_000  # 240,000 characters: past the csv module's default limit
    rows = list(
        csv_rows(
            f"长文本合同,XS,甲公司,{text}\n短合同,XS,甲公司,正文\n",
            header="title,type,customer,document_text\n",
        )
    )
    assert [line for line, _row in rows] == [2, 3]
    assert "__error__" not in rows[0][1] and len(rows[0][1]["document_text"]) == len(text)


def test_a_blocked_customer_is_refused_and_the_others_resolved_in_two_queries(
    org: SimpleNamespace, django_assert_max_num_queries: Any
) -> None:
    make_party(org.sales1, name="冻结客户有限公司", status="blocked")
    for n in range(12):
        make_party(org.sales1, name=f"客户{n}号有限公司")
    rows = [{"title": f"c{n}", "type": "XS", "customer": f"客户{n}号有限公司"} for n in range(12)]
    rows.append({"title": "blocked", "type": "XS", "customer": "冻结客户有限公司"})
    from qiyue.contracts.bulk import _Checker

    checker = _Checker(org.sales1)
    checker.prefetch([{"customer": "客户0号有限公司"}])  # loads the user's scope once
    with django_assert_max_num_queries(2):  # eleven more customers and a blocked one
        checker.prefetch(rows)
    with translation.override("en"):
        result = import_contracts(org.sales1, rows)
    assert len(result.created) == 12
    assert [e.errors for e in result.errors] == [
        {"customer": "This customer is blocked; no new contracts."}
    ]


def test_an_import_leaves_the_audit_chain_intact(org: SimpleNamespace) -> None:
    from qiyue.audit.integrity import verify

    rows = [{"title": f"合同{n}", "type": "XS", "customer": f"链客户{n % 3}"} for n in range(40)]
    result = import_contracts(org.admin, rows, batch_size=15)
    assert len(result.created) == 40
    events = list(
        AuditEvent.objects.filter(
            action="contract.created", target_id__in=[str(i) for i in result.created]
        )
    )
    assert sorted(int(e.target_id) for e in events) == sorted(result.created)
    report = verify()
    assert report.ok, report.problem
