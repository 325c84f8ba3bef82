"""How the API writes JSON."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    """UTF-8 JSON with ``<``, ``>`` and ``&`` escaped, so text such as a ``<script>`` in a
    title can never be read as markup, even by a client that mislabels the response."""

    json_dumps_params = {"ensure_ascii": False}

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        text = super().render(request, data, response_status=response_status)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


RENDERER = SafeJSONRenderer()


def render_json(request: HttpRequest, data: Any, *, status: int = 200) -> HttpResponse:
    """A response rendered like every other API response, for hot list endpoints that
    skip ninja's output validation."""
    return HttpResponse(
        RENDERER.render(request, data, response_status=status),
        status=status,
        content_type=RENDERER.media_type,
    )
