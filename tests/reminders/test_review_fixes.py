"""Review fixes: the calendar token is compared in constant time, and a webhook does not
follow redirects to addresses the administrator never entered."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.urls import reverse

from qiyue.reminders import actions, queries

pytestmark = pytest.mark.django_db


def test_calendar_token_is_compared_in_constant_time(
    org: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = actions.new_calendar_token(actor=org.sales1)
    compared: list[tuple[bytes, bytes]] = []
    real = queries.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(queries.hmac, "compare_digest", spy)
    assert client.get(reverse("web:calendar_feed", args=[token])).status_code == 200
    assert compared and compared[-1] == (token.encode(), token.encode())


def test_calendar_token_with_the_right_prefix_but_wrong_secret_is_404(
    org: Any, client: Any
) -> None:
    token = actions.new_calendar_token(actor=org.sales1)
    forged = token[:8] + ("A" if token[8] != "A" else "B") + token[9:]
    assert client.get(reverse("web:calendar_feed", args=[forged])).status_code == 404
    assert client.get(reverse("web:calendar_feed", args=[token[:8]])).status_code == 404
    assert queries.user_for_calendar_token(token) == org.sales1


def test_webhook_post_does_not_follow_a_redirect() -> None:
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            if self.path == "/hook":
                self.send_response(302)
                self.send_header("Location", "/internal")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with pytest.raises(Exception, match="302"):
            actions._post(url, b"{}", {"Content-Type": "application/json"})
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/hook"]


def test_webhook_post_refuses_other_schemes() -> None:
    with pytest.raises(ValueError):
        actions._post("file:///etc/passwd", b"{}", {})


@pytest.mark.parametrize("url", ["http://[::1", "http://example.com:99999/", "http://a b/"])
def test_malformed_webhook_url_is_refused_with_a_message(login: Any, org: Any, url: str) -> None:
    from qiyue.reminders.models import WebhookEndpoint

    r = login(org.admin).post(reverse("web:reminder_webhooks"), {"name": "ERP", "url": url})
    assert r.status_code == 400
    assert not WebhookEndpoint.objects.exists()
