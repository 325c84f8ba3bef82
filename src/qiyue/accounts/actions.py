"""Writes for accounts: departments, users, roles, API tokens, login throttling.

Each action is one transaction that writes its audit event."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qiyue.accounts.models import ApiToken, Department, LoginFailure, Role, User, hash_token
from qiyue.accounts.permissions import ALL_PERMS, BUILTIN_ROLES, DataScope
from qiyue.accounts.queries import token_owner
from qiyue.audit.actions import record

TOKEN_PREFIX = "qy_"  # noqa: S105 - a marker, not a secret


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


@transaction.atomic
def ensure_builtin_roles(*, actor: User | None = None) -> dict[str, Role]:
    """Create the six built-in roles if missing; existing ones are left as edited."""
    roles = {}
    for code, (name, name_en, perms, scope) in BUILTIN_ROLES.items():
        role, created = Role.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "permissions": [str(p) for p in perms],
                "data_scope": str(scope),
            },
        )
        if created:
            record(actor=actor, action="role.created", target=role, data={"code": code})
        roles[code] = role
    return roles


@transaction.atomic
def save_role(
    *,
    actor: User | None,
    code: str,
    name: str,
    name_en: str = "",
    permissions: list[str],
    data_scope: str,
) -> Role:
    unknown = sorted(set(permissions) - set(ALL_PERMS))
    if unknown:
        raise AccountError(f"unknown permissions: {', '.join(unknown)}")
    if data_scope not in DataScope.values:
        raise AccountError(f"unknown data scope: {data_scope}")
    role, created = Role.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "name_en": name_en,
            "permissions": sorted(permissions),
            "data_scope": data_scope,
        },
    )
    record(
        actor=actor,
        action="role.created" if created else "role.changed",
        target=role,
        data={"permissions": role.permissions, "data_scope": data_scope},
    )
    return role


@transaction.atomic
def create_department(
    *, actor: User | None, name: str, parent: Department | None = None, head: User | None = None
) -> Department:
    dept = Department.objects.create(name=name, parent=parent, head=head)
    dept.path = dept.compute_path()
    dept.save(update_fields=["path"])
    record(
        actor=actor,
        action="department.created",
        target=dept,
        data={"name": name, "parent": parent.pk if parent else None},
    )
    return dept


@transaction.atomic
def set_department_head(*, actor: User | None, department: Department, head: User | None) -> None:
    before = department.head_id
    department.head = head
    department.save(update_fields=["head"])
    record(
        actor=actor,
        action="department.head_changed",
        target=department,
        data={"before": before, "after": head.pk if head else None},
    )


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    department: Department | None = None,
    role: Role | None = None,
    language: str = User.Language.ZH_HANS,
    is_superuser: bool = False,
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        department=department,
        role=role,
        language=language,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record(
        actor=actor,
        action="user.created",
        target=user,
        data={
            "username": username,
            "department": department.pk if department else None,
            "role": role.code if role else None,
        },
    )
    return user


@transaction.atomic
def change_password(*, actor: User, user: User, new_password: str) -> None:
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record(actor=actor, action="user.password_changed", target=user)


@transaction.atomic
def set_language(*, actor: User, language: str) -> None:
    if language not in User.Language.values:
        raise AccountError(f"unknown language: {language}")
    before = actor.language
    actor.language = language
    actor.save(update_fields=["language"])
    record(
        actor=actor,
        action="user.language_changed",
        target=actor,
        data={"before": before, "after": language},
    )


@transaction.atomic
def create_api_token(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token; returns the row and the raw token, which is never stored."""
    if actor.pk != user.pk and not actor.has_perm_code("admin"):
        raise AccountError("only administrators may create tokens for other users")
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("a token needs a name of 1 to 100 characters")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw)
    )
    record(actor=actor, action="api_token.created", target=token, data={"name": name})
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        record(actor=actor, action="api_token.revoked", target=token, data={"name": token.name})


def authenticate_token(raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None. Marks it used."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    found = token_owner(hash_token(raw))
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    # Only touch the row once a minute so busy integrations do not write on every call.
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=found.token_id).update(last_used_at=now)
    return found.user


def login_locked(username: str, ip: str | None) -> bool:
    """Too many recent failures for this user name, or from this address."""
    since = timezone.now() - timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    limit = settings.LOGIN_MAX_FAILURES
    if recent.filter(username__iexact=username).count() >= limit:
        return True
    # An address gets more room: several people may sit behind one NAT.
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 4


def note_login_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], ip=ip or None)


def clear_login_failures(username: str) -> None:
    LoginFailure.objects.filter(username__iexact=username).delete()


def user_by_username(username: str) -> Any:
    return User.objects.filter(username=username).first()
