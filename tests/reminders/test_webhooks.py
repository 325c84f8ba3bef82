"""Webhooks: each reminder of a rule with the webhook channel is POSTed once to each
active endpoint, signed with HMAC-SHA256; a failing endpoint never stops the run."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from qiyue.reminders import actions, scheduler
from qiyue.reminders.models import Occurrence, ReminderRule, WebhookDelivery
from tests.reminders.conftest import DAY

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A real HTTP server on localhost that records what it is sent."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def failing() -> Iterator[Receiver]:
    r = Receiver(status=500)
    yield r
    r.close()


def test_webhook_is_signed_and_sent_once(
    org: Any, rule: ReminderRule, active: Any, receiver: Receiver
) -> None:
    rule.by_webhook = True
    rule.save(update_fields=["by_webhook"])
    endpoint = actions.create_endpoint(actor=org.admin, name="ERP", url=receiver.url)
    c = active(DAY + timedelta(days=7))
    scheduler.run(DAY)
    scheduler.run(DAY)
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    expected = "sha256=" + hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Qiyue-Signature"], expected)
    payload = json.loads(body)
    assert payload["contract_id"] == c.pk
    assert payload["kind"] == "contract.expiry" and payload["days_before"] == 7
    assert payload["key"] == Occurrence.objects.get().key
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
    # Delivering again (a retried job) posts nothing more.
    assert actions.deliver_webhook(WebhookDelivery.objects.get().pk) is False
    assert len(receiver.requests) == 1


def test_failing_endpoint_is_recorded_and_does_not_block_the_run(
    org: Any, rule: ReminderRule, active: Any, failing: Receiver
) -> None:
    rule.by_webhook = True
    rule.save(update_fields=["by_webhook"])
    actions.create_endpoint(actor=org.admin, name="down", url=failing.url)
    active(DAY + timedelta(days=7))
    active(DAY + timedelta(days=30))
    lines = scheduler.run(DAY)
    assert len(lines) == 2  # the reminders went out in-app all the same
    deliveries = WebhookDelivery.objects.all()
    assert deliveries.count() == 2
    assert all(d.status == WebhookDelivery.Status.FAILED for d in deliveries)
    assert all("500" in d.last_error for d in deliveries)


def test_rule_without_webhook_channel_posts_nothing(
    org: Any, rule: ReminderRule, active: Any, receiver: Receiver
) -> None:
    actions.create_endpoint(actor=org.admin, name="ERP", url=receiver.url)
    active(DAY + timedelta(days=7))
    scheduler.run(DAY)
    assert receiver.requests == []
    assert not WebhookDelivery.objects.exists()
