from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from qiyue.accounts.actions import create_api_token
from qiyue.accounts.models import ApiToken


def test_account_page_lists_only_the_users_own_tokens(login: Any, org: Any) -> None:
    create_api_token(actor=org.sales1, user=org.sales1, name="CRM 同步")
    create_api_token(actor=org.sales2, user=org.sales2, name="ERP secret")
    response = login(org.sales1).get(reverse("web:account"))
    assert response.status_code == 200
    assert "CRM 同步" in response.content.decode()
    assert b"ERP secret" not in response.content


def test_the_token_section_links_the_api_reference_and_its_usual_addresses_lead_there(
    login: Any, org: Any, client: Any
) -> None:
    html = login(org.sales1).get(reverse("web:account")).content.decode()
    assert f'href="{reverse("api:openapi-view")}" data-testid="api-docs-link"' in html
    for path in ("/api/", "/api/docs"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, "/api/v1/docs")


def test_token_page_shows_the_raw_token_once(login: Any, org: Any) -> None:
    c = login(org.sales1)
    response = c.post(reverse("web:token_create"), {"name": "CRM"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    start = body.index('data-testid="raw-token">') + len('data-testid="raw-token">')
    raw = body[start : body.index("<", start)]
    assert raw.startswith("qy_")
    token = ApiToken.objects.get(user=org.sales1)
    assert token.prefix == raw[:10]
    assert raw not in c.get(reverse("web:account")).content.decode()


def test_token_without_a_name_is_refused(login: Any, org: Any) -> None:
    response = login(org.sales1).post(reverse("web:token_create"), {"name": "  "}, follow=True)
    assert not ApiToken.objects.exists()
    assert response.status_code == 200


def test_revoking_a_token_marks_it_revoked(login: Any, org: Any) -> None:
    token, _raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    response = login(org.sales1).post(reverse("web:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_outsider_gets_404_for_revoking_someone_elses_token(login: Any, org: Any) -> None:
    token, _raw = create_api_token(actor=org.sales1, user=org.sales1, name="CRM")
    response = login(org.sales2).post(reverse("web:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_language_switch_saves_the_choice_and_sets_the_cookie(login: Any, org: Any) -> None:
    c = login(org.sales1)
    response = c.post(reverse("web:language"), {"language": "en", "next": "/contracts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contracts/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    org.sales1.refresh_from_db()
    assert org.sales1.language == "en"
    page = c.get(reverse("web:contract_list"))
    assert b'lang="en"' in page.content
    back = c.post(reverse("web:language"), {"language": "zh-hans"})
    assert back.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert b'lang="zh-hans"' in c.get(reverse("web:contract_list")).content


def test_unknown_language_is_refused(login: Any, org: Any) -> None:
    response = login(org.sales1).post(reverse("web:language"), {"language": "xx"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    org.sales1.refresh_from_db()
    assert org.sales1.language == "zh-hans"


def test_anonymous_may_switch_the_language_of_the_login_page(client: Any, org: Any) -> None:
    response = client.post(reverse("web:language"), {"language": "en", "next": "/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert b'lang="en"' in client.get("/login/").content
