import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from qiyue.review.management.commands.review import run_extract

ZH = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "zh-contracts"

TEXT = "软件许可合同\n\n合同编号：XY-2025-01\n\n甲方：北京某某有限公司\n乙方：上海某某有限公司\n"


def test_extract_writes_one_json_object_per_file(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "ignored.csv").write_text("x", encoding="utf-8")
    lines: list[str] = []
    failures = run_extract([tmp_path], as_json=True, write=lines.append)
    assert failures == []
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row["file"].endswith("a.txt")
    assert row["contract_number"] == "XY-2025-01"
    assert row["party_a"] == "北京某某有限公司"
    assert "payment_schedule" in row and "dispute_venue" in row


def test_extract_shows_the_evidence_of_each_proposal(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    lines: list[str] = []
    run_extract([path], as_json=False, write=lines.append)
    number = next(line for line in lines if "contract_number" in line)
    assert "«XY-2025-01»" in number


def test_missing_files_are_reported(tmp_path):
    lines: list[str] = []
    failures = run_extract([tmp_path / "nope.txt"], as_json=True, write=lines.append)
    assert lines == []
    assert len(failures) == 1 and "nope.txt" in failures[0]


@pytest.mark.skipif(not apps.is_installed("qiyue.review"), reason="review app not installed")
@pytest.mark.skipif(not ZH.is_dir(), reason="zh-contracts development set not found")
def test_review_eval_command_prints_the_table(capsys):
    call_command("review", "eval", str(ZH), "--format", "zh")
    out = capsys.readouterr().out
    assert "overall" in out and "contract_number" in out
