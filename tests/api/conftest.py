"""Clients that call the API the way integrations do: with a bearer token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from qiyue.accounts import actions as account_actions


class ApiClient(Client):
    """A test client that sends JSON bodies and a bearer token on every request."""

    def __init__(self, raw_token: str | None = None, **kwargs: Any) -> None:
        headers = kwargs.pop("headers", {}) or {}
        if raw_token:
            headers["Authorization"] = f"Bearer {raw_token}"
        super().__init__(headers=headers, **kwargs)

    def post_json(self, path: str, data: Any, **kwargs: Any) -> Any:
        return self.post(path, json.dumps(data), content_type="application/json", **kwargs)

    def patch_json(self, path: str, data: Any, **kwargs: Any) -> Any:
        return self.patch(path, json.dumps(data), content_type="application/json", **kwargs)


@pytest.fixture
def api() -> Any:
    """``api(user)``: a client authenticated with a fresh token of that user;
    ``api(None)``: an anonymous one."""

    def _api(user: Any) -> ApiClient:
        if user is None:
            return ApiClient()
        _token, raw = account_actions.create_api_token(actor=user, user=user, name="test")
        return ApiClient(raw)

    return _api
