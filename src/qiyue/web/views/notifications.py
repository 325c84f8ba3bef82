"""The user's notifications (the bell in the header)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from qiyue.notifications import actions
from qiyue.notifications.queries import notifications_of
from qiyue.web.views.common import PAGE_SIZES, as_id, paginate


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, notifications_of(request.user))
    return render(request, "web/notifications.html", {"page": page, "page_sizes": PAGE_SIZES})


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them read; follow its link if asked."""
    pk = as_id(request.POST.get("id"))
    if request.POST.get("id") and pk is None:
        return redirect("web:notifications")
    actions.mark_read(request.user, None if pk is None else [pk])
    if pk is not None and request.POST.get("follow"):
        note = notifications_of(request.user).filter(pk=pk).first()
        # Only a path on this site (no "//host" nor "/\\host" that browsers read as one).
        if (
            note is not None
            and note.url.startswith("/")
            and url_has_allowed_host_and_scheme(note.url, allowed_hosts=None)
        ):
            return redirect(note.url)
    return redirect("web:notifications")
