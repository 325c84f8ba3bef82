"""The API client fixture of tests/api, for the obligations API tests."""

from tests.api.conftest import api  # noqa: F401
