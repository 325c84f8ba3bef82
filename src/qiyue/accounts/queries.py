"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from qiyue.accounts.models import ApiToken, Department, Role, User


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def departments() -> QuerySet[Department]:
    return Department.objects.select_related("head", "parent").order_by("path")


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).select_related("department", "role")


def user_with_role(pk: int) -> User | None:
    return User.objects.select_related("role", "department").filter(pk=pk).first()


def roles() -> QuerySet[Role]:
    """Every role, by code (pickers in the workflow and compliance rule editors)."""
    return Role.objects.order_by("code")
