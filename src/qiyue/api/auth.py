"""Who calls the API: a bearer token (integrations) or the browser session (the docs page).

Either way the user's own language is switched on for the rest of the request, so the
messages of every error come in the language the user chose, not the one the HTTP
client happens to send.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from qiyue.accounts.actions import authenticate_token
from qiyue.accounts.models import User


def _use_language(request: HttpRequest, user: User) -> User:
    if user.language:
        translation.activate(user.language)
        request.LANGUAGE_CODE = translation.get_language()
    return user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer qy_…``: a personal API token (``qiyue token create``)."""

    openapi_bearerFormat = "qy_…"
    openapi_description = "A personal API token from `qiyue token create USERNAME`."

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = authenticate_token(token.strip())
        if user is None:
            return None
        return _use_language(request, user)


class SessionAuth(APIKeyCookie):
    """The logged-in browser user, for trying the API out on the docs page.

    Unlike ninja's own ``SessionAuth`` the CSRF check runs only when a session user is
    present, so a request without a session gets the plain 401 rather than a CSRF 403."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The session of a user logged in to the web interface."

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed")
        return _use_language(request, user)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None  # __call__ does the work


def current_user(request: HttpRequest) -> User:
    """The authenticated caller; every endpoint runs behind one of the auths above."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
