"""Who am I: integrations check their token and what it may do."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from qiyue.accounts.permissions import ALL_PERMS
from qiyue.api.auth import current_user
from qiyue.api.schemas import Error, MeOut
from qiyue.api.serializers import department_ref

router = Router(tags=["accounts"])


@router.get("/me", response={200: MeOut, 401: Error}, summary="The calling user")
def me(request: HttpRequest) -> dict[str, Any]:
    """The user the token (or session) belongs to, their department, role and the
    permission codes the role grants."""
    user = current_user(request)
    role = user.role
    if user.is_superuser:
        permissions = list(ALL_PERMS)
    else:
        permissions = sorted(p for p in (role.permissions if role else []) if p in ALL_PERMS)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": str(user),
        "email": user.email,
        "language": user.language,
        "department": department_ref(user.department),
        "role": (
            {"code": role.code, "name": role.display_name, "data_scope": role.data_scope}
            if role
            else None
        ),
        "is_admin": user.has_perm_code("admin"),
        "permissions": permissions,
    }
