"""The interactive API docs (Swagger UI), served entirely from this server.

Many customers run Qiyue without internet, so the page must not reach for a CDN. django-
ninja ships Swagger UI in its package; ninja is not an installed Django app here, so its
few files are served by :func:`docs_asset` from the package folder (a fixed list of
names; no path from the request reaches the file system)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.static import serve
from ninja.openapi.docs import DocsBase

from qiyue.api.errors import error_body

if TYPE_CHECKING:
    from ninja import NinjaAPI

NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
DOC_ASSETS = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-init.js", "favicon.png"}
)


class OfflineSwagger(DocsBase):
    settings: dict[str, Any] = {
        "layout": "BaseLayout",
        "deepLinking": True,
        "persistAuthorization": True,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        config = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        namespace = api.urls_namespace

        def asset(name: str) -> str:
            return reverse(f"{namespace}:docs-asset", kwargs={"name": name})

        context = {
            "api": api,
            "swagger_settings": json.dumps(config).replace("<", "\\u003c"),
            "csrf_token_value": get_token(request),
            "css_url": asset("swagger-ui.css"),
            "bundle_url": asset("swagger-ui-bundle.js"),
            "init_url": asset("swagger-ui-init.js"),
            "favicon_url": asset("favicon.png"),
        }
        return render(request, "api/docs.html", context)


def docs_asset(request: HttpRequest, name: str) -> HttpResponse | FileResponse:
    if name not in DOC_ASSETS:
        raise Http404
    response = serve(request, name, document_root=str(NINJA_STATIC))
    response["Cache-Control"] = "public, max-age=86400"
    return response


def not_found(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Unknown paths under the API answer JSON too, not the web UI's HTML page."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
