"""The OpenAPI document and the docs page, which must work without internet."""

from __future__ import annotations

import re

from django.test import Client

PATHS = {
    "/api/v1/contracts",
    "/api/v1/contracts/{id}",
    "/api/v1/contracts/{id}/transitions",
    "/api/v1/contract-types",
    "/api/v1/parties",
    "/api/v1/parties/{id}",
    "/api/v1/me",
}


def test_openapi_json_loads_and_lists_the_paths(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= PATHS
    assert set(schema["paths"]["/api/v1/contracts/{id}"]) == {"get", "patch"}
    assert set(schema["paths"]["/api/v1/contracts"]) == {"get", "post"}


def test_openapi_documents_the_bearer_scheme_for_the_authorize_button(db):
    schema = Client().get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["TokenAuth"]["type"] == "http"
    assert schemes["TokenAuth"]["scheme"] == "bearer"
    operation = schema["paths"]["/api/v1/contracts"]["get"]
    assert {"TokenAuth": []} in operation["security"]


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_docs_page_loads_without_external_urls(db):
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)
    assert "cdn" not in html.lower()
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith(".css") for a in assets)
    for url in assets:
        assert url.startswith("/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(_body(response)) > 100, url


def test_docs_assets_serve_only_the_known_files(db):
    client = Client()
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js.map").status_code == 404
    assert client.get("/api/v1/docs/assets/..%2F..%2F__init__.py").status_code == 404


def test_docs_page_points_at_the_openapi_document(db):
    html = Client().get("/api/v1/docs").content.decode()
    assert '"url": "/api/v1/openapi.json"' in html
