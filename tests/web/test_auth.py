from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from qiyue.accounts.models import LoginFailure
from qiyue.audit.models import AuditEvent
from tests.conftest import PASSWORD

LOGIN = reverse("web:login")


def _post_login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_login_page_renders_for_anonymous(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'data-testid="login-form"' in response.content
    # The page names its icon, so browsers do not ask for a /favicon.ico that is not there.
    assert b'rel="icon" href="/static/web/favicon.svg"' in response.content


def test_anonymous_is_redirected_to_login_from_every_page(client: Client, org: Any) -> None:
    for name in ("web:home", "web:contract_list", "web:party_list", "web:account"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_login_succeeds_and_sets_the_language_cookie_to_the_users_language(
    client: Client, org: Any
) -> None:
    org.sales1.language = "en"
    org.sales1.save(update_fields=["language"])
    response = _post_login(client, "sales1", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert b'lang="en"' in home.content


def test_login_follows_a_local_next_but_not_a_foreign_one(client: Client, org: Any) -> None:
    response = _post_login(client, "sales1", PASSWORD, next="/contracts/")
    assert response["Location"] == "/contracts/"
    other = Client()
    response = _post_login(other, "sales1", PASSWORD, next="https://evil.example/")
    assert response["Location"] == reverse("web:home")


def test_wrong_password_shows_an_error_and_is_counted(client: Client, org: Any) -> None:
    response = _post_login(client, "sales1", "wrong")
    assert response.status_code == 200
    assert b'data-testid="login-error"' in response.content
    assert LoginFailure.objects.filter(username="sales1").count() == 1


def test_login_throttling_locks_after_the_configured_failures(
    client: Client, org: Any, settings: Any
) -> None:
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        _post_login(client, "sales1", "wrong")
    response = _post_login(client, "sales1", PASSWORD)
    assert response.status_code == 429
    assert b'data-testid="login-error"' in response.content
    assert "_auth_user_id" not in client.session


def test_successful_login_clears_earlier_failures(client: Client, org: Any) -> None:
    _post_login(client, "sales1", "wrong")
    _post_login(client, "sales1", PASSWORD)
    assert not LoginFailure.objects.filter(username="sales1").exists()


def test_logout_needs_post_and_ends_the_session(login: Any, org: Any) -> None:
    c = login(org.sales1)
    assert c.get(reverse("web:logout")).status_code == 405
    response = c.post(reverse("web:logout"))
    assert response["Location"] == LOGIN
    assert c.get(reverse("web:home")).status_code == 302


def test_password_change_applies_validators_and_keeps_the_session(login: Any, org: Any) -> None:
    c = login(org.sales1)
    url = reverse("web:password_change")
    weak = c.post(url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200
    assert b"error-new_password2" in weak.content
    good = "Hetong-2026-strong!"
    response = c.post(url, {"old_password": PASSWORD, "new_password1": good, "new_password2": good})
    assert response.status_code == 302
    org.sales1.refresh_from_db()
    assert org.sales1.check_password(good)
    assert c.get(reverse("web:home")).status_code == 200


@pytest.mark.parametrize("path", ["/no-such-page/", "/contracts/999999/"])
def test_not_found_pages_leak_nothing(login: Any, org: Any, path: str) -> None:
    response = login(org.sales1).get(path)
    assert response.status_code == 404
    assert b'data-testid="not-found"' in response.content
    assert b"Traceback" not in response.content


def test_a_language_picked_on_the_login_page_wins_at_login_and_is_kept(
    client: Client, org: Any
) -> None:
    assert org.sales1.language == "zh-hans"
    client.post(reverse("web:language"), {"language": "en", "next": "/login/"})
    response = _post_login(client, "sales1", PASSWORD)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert b'lang="en"' in client.get(reverse("web:home")).content
    org.sales1.refresh_from_db()
    assert org.sales1.language == "en"  # saved, with its audit event
    assert AuditEvent.objects.filter(
        action="user.language_changed", target_id=str(org.sales1.pk)
    ).exists()
    # Only that once: the next login (a new browser) speaks the stored language.
    other = Client()
    org.sales1.language = "zh-hans"
    org.sales1.save(update_fields=["language"])
    response = _post_login(other, "sales1", PASSWORD)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    client.post(reverse("web:logout"))
    response = _post_login(client, "sales1", PASSWORD)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
