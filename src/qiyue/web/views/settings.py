"""The administrators' settings hub: one page linking every company-wide setting."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def settings_hub(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm_code("admin"):
        raise Http404
    return render(request, "web/settings.html")
