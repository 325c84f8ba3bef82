"""The home dashboard."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from qiyue.contracts.queries import dashboard_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    data = dashboard_for(request.user)
    today = timezone.localdate()
    expiring = [
        (days, count, (today + timedelta(days=days)).isoformat())
        for days, count in data["expiring"].items()
    ]
    return render(
        request,
        "web/home.html",
        {"d": data, "today": today.isoformat(), "expiring": expiring},
    )
