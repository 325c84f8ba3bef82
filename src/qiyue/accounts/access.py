"""The one access policy.

Every list, detail, download, search, report and export reads records through a
queryset's ``visible_to(user, action)``, which calls :func:`scope_q` here. Rules:

* the action needs a permission code of the user's role, else nothing is visible;
* the role's data scope decides the reach: own records, own department, department and
  its sub-departments, or all;
* a department head also reaches the subtree of every department they head;
* a record shared with the user or their department is visible (editable when the share
  says so).

What is not visible answers 404 in every delivery layer, never 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from qiyue.accounts.permissions import DataScope, Perm

# Which permission each action needs, per kind of record.
CONTRACT_ACTIONS: dict[str, str] = {
    "view": Perm.CONTRACT_VIEW,
    "change": Perm.CONTRACT_CHANGE,
    "approve": Perm.CONTRACT_APPROVE,
    "sign": Perm.CONTRACT_SIGN,
    "terminate": Perm.CONTRACT_TERMINATE,
    "archive": Perm.CONTRACT_ARCHIVE,
    "export": Perm.CONTRACT_EXPORT,
    "share": Perm.CONTRACT_SHARE,
}
PARTY_ACTIONS: dict[str, str] = {
    "view": Perm.PARTY_VIEW,
    "change": Perm.PARTY_CHANGE,
}
# Actions a department head may take on the subtree without the role's scope reaching it.
HEAD_ACTIONS = {"view", "export", "approve"}
# Actions a share grants; "change" only with an editable share.
SHARE_ACTIONS = {"view", "export"}


class UnknownAction(ValueError):
    """visible_to was called with an action the policy does not know."""


def scope_q(
    user: Any,
    action: str,
    *,
    actions: dict[str, str],
    owner_field: str = "owner",
    department_field: str = "department",
    shared: Callable[[Any, bool], QuerySet[Any]] | None = None,
) -> Q | None:
    """The filter for the records ``user`` may ``action``, or None for none at all."""
    if action not in actions:
        raise UnknownAction(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not user.has_perm_code(actions[action]):
        return None
    if user.is_superuser:
        return Q()
    scope = user.role.data_scope if user.role else DataScope.OWN
    if scope == DataScope.ALL:
        return Q()

    q = Q(**{owner_field: user.pk})
    dept = user.department
    if dept is not None:
        if scope == DataScope.DEPARTMENT:
            q |= Q(**{f"{department_field}_id": dept.pk})
        elif scope == DataScope.SUBTREE:
            q |= Q(**{f"{department_field}__path__startswith": dept.path})
    if action in HEAD_ACTIONS:
        for path in headed_paths(user):
            q |= Q(**{f"{department_field}__path__startswith": path})
    if shared is not None and (action in SHARE_ACTIONS or action == "change"):
        # A subquery, not a join, so a record shared twice is still listed once.
        q |= Q(pk__in=shared(user, action == "change"))
    return q


def scope_key(user: Any, action: str, *, actions: dict[str, str]) -> tuple[Any, ...]:
    """Everything :func:`scope_q` reads of ``user`` for ``action``, as a hashable key:
    two calls with equal keys build the same filter (the same SQL with the same
    parameters), so a caller may keep what it compiled from the filter under this key.
    Shares are a subquery of the filter, so a new share changes the rows it selects, not
    the filter or its key. Keep in step with :func:`scope_q`."""
    if action not in actions:
        raise UnknownAction(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return (action, None)
    allowed = user.has_perm_code(actions[action])
    if not allowed or user.is_superuser:
        return (action, user.pk, allowed, user.is_superuser)
    scope = user.role.data_scope if user.role else DataScope.OWN
    dept = user.department
    heads = tuple(headed_paths(user)) if action in HEAD_ACTIONS else ()
    return (
        action,
        user.pk,
        allowed,
        False,
        scope,
        dept.pk if dept is not None else None,
        dept.path if dept is not None else None,
        heads,
    )


def headed_paths(user: Any) -> list[str]:
    """Tree paths of the departments the user heads, cached on the user object."""
    cached = getattr(user, "_qiyue_headed_paths", None)
    if cached is None:
        cached = list(user.headed_departments.values_list("path", flat=True))
        remember_headed_paths(user, cached)
    return cached


def remember_headed_paths(user: Any, paths: list[str]) -> None:
    """Cache the paths :func:`headed_paths` would read, for a loader that read them
    together with the user (``accounts.queries.token_owner``): sorted, as the
    departments' default ordering gives them."""
    user._qiyue_headed_paths = sorted(paths)
