"""The optional language-model refinement, against a fake OpenAI-compatible server on
this machine: off by default, quotes must be found in the text, failures change nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from qiyue.review import llm
from qiyue.review.extraction import extract
from qiyue.review.mapping import from_extraction
from tests.factories import make_contract

from .conftest import ZH, pending, upload

pytestmark = pytest.mark.skipif(not ZH.exists(), reason="shared contract texts not present")


class FakeModel:
    """What the fake server answers, and what it was asked."""

    answer: Any = {}
    status = 200
    requests: list[dict[str, Any]] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        FakeModel.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        content = (
            FakeModel.answer
            if isinstance(FakeModel.answer, str)
            else json.dumps(FakeModel.answer, ensure_ascii=False)
        )
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        self.send_response(FakeModel.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeModel]]:
    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeModel.requests, FakeModel.status, FakeModel.answer = [], 200, {}
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    monkeypatch.setenv("QIYUE_LLM_URL", url)
    monkeypatch.setenv("QIYUE_LLM_API_KEY", "secret")
    yield FakeModel
    server.shutdown()
    server.server_close()


TEXT = ZH.read_text(encoding="utf-8") if ZH.exists() else ""


def drafts() -> Any:
    return from_extraction(extract(TEXT), TEXT)


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QIYUE_LLM_URL", raising=False)
    assert not llm.enabled()
    before = drafts()
    assert llm.refine(TEXT, before) == before


def test_model_confirms_fills_and_replaces_weak_values(fake_llm: Any) -> None:
    fake_llm.answer = {
        "amount": {
            "value": {"amount": "3456000", "currency": "CNY"},
            "quote": "人民币叁佰肆拾伍万陆仟元整（¥3,456,000.00）",
        },
        "notice_period_days": {"value": 30, "quote": "工业设备买卖合同"},  # any quote found
        "expiry_date": {"value": "2030-01-01", "quote": "not in the contract"},
        "renewal_term_months": {"value": 9999, "quote": "工业设备买卖合同"},
        "unknown": {"value": 1, "quote": "x"},
    }
    refined = {d.field: d for d in llm.refine(TEXT, drafts())}
    request = fake_llm.requests[0]
    assert request["auth"] == "Bearer secret"
    assert request["body"]["messages"][1]["content"].startswith(TEXT[:50])
    assert refined["amount"].confidence == 0.9  # the rules' 0.6, confirmed
    notice = refined["notice_period_days"]
    assert (notice.value, notice.confidence) == (30, 0.6)
    assert TEXT[notice.start : notice.end] == "工业设备买卖合同"
    assert "expiry_date" not in refined  # its quote is not in the text
    assert "renewal_term_months" not in refined  # out of range


@pytest.mark.parametrize("answer", ["not json", "[1, 2]", '{"amount": "x"}'])
def test_malformed_answers_leave_the_rules_proposals(fake_llm: Any, answer: str) -> None:
    fake_llm.answer = answer
    before = drafts()
    assert llm.refine(TEXT, before) == before


def test_server_error_leaves_the_rules_proposals(fake_llm: Any) -> None:
    fake_llm.status = 500
    before = drafts()
    assert llm.refine(TEXT, before) == before


def test_upload_uses_the_model_when_configured(
    fake_llm: Any, org: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake_llm.answer = {"notice_period_days": {"value": 45, "quote": "工业设备买卖合同"}}
    contract = make_contract(org.sales1)
    upload(contract, ZH, django_capture_on_commit_callbacks)
    assert pending(contract)["notice_period_days"].value == 45
    assert len(fake_llm.requests) == 1


class Redirecting(BaseHTTPRequestHandler):
    """An endpoint that sends the client on (302) to a page that notes what it was sent."""

    seen: list[str | None] = []

    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", "/elsewhere")
        self.end_headers()

    def do_GET(self) -> None:
        Redirecting.seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


def test_api_key_is_not_sent_on_to_where_a_redirect_points(
    fake_llm: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    Redirecting.seen = []
    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions?key=secret"
        monkeypatch.setenv("QIYUE_LLM_URL", url)
        before = drafts()
        assert llm.refine(TEXT, before) == before
    finally:
        server.shutdown()
        server.server_close()
    assert Redirecting.seen == []  # the redirect was not followed, the key not passed on
    assert "LLM refinement skipped" in caplog.text and "secret" not in caplog.text


def test_a_yes_is_not_a_number_of_days(fake_llm: Any) -> None:
    fake_llm.answer = {"notice_period_days": {"value": True, "quote": "工业设备买卖合同"}}
    before = [d for d in drafts() if d.field != "notice_period_days"]
    assert llm.refine(TEXT, before) == before


def test_an_oversized_answer_is_refused(fake_llm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(llm, "MAX_ANSWER_BYTES", 1000)
    fake_llm.answer = {
        "notice_period_days": {"value": 45, "quote": "工业设备买卖合同"},
        "padding": {"value": "x" * 2000, "quote": ""},
    }
    before = [d for d in drafts() if d.field != "notice_period_days"]
    assert llm.refine(TEXT, before) == before
