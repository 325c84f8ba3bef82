"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from qiyue.approvals.queries import open_task_count
    from qiyue.notifications.queries import unread_count

    return {
        "open_tasks": open_task_count(user),
        "unread_notifications": unread_count(user),
        "can_create_contract": user.has_perm_code("contract.create"),
        "can_create_party": user.has_perm_code("party.create"),
        "is_admin": user.has_perm_code("admin"),
        "perms_export": user.has_perm_code("contract.export"),
    }
