"""``{% proposals_panel %}``: the "Proposed from the document" panel of the contract page."""

from __future__ import annotations

from typing import Any

from django import template

from qiyue.web.views.review import panel_context

register = template.Library()


@register.inclusion_tag("web/review/_proposals.html", takes_context=True)
def proposals_panel(context: Any) -> dict[str, Any]:
    """Uses what the contract page has: ``c``, ``can_edit`` and ``documents_pending``."""
    request = context["request"]
    data = panel_context(request, context["c"], can_edit=bool(context.get("can_edit")))
    data["waiting"] = not data["rows"] and bool(context.get("documents_pending"))
    data["csrf_token"] = context.get("csrf_token")
    data["request"] = request
    return data
