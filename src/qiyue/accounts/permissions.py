"""Permission codes, data scopes and the built-in roles.

A role is a named set of permission codes plus a data scope that says which records the
permissions reach (纷享销客's 本人 / 本部门 / 本部门及下属部门 / 全部).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm(models.TextChoices):
    CONTRACT_VIEW = "contract.view", _("View contracts")
    CONTRACT_CREATE = "contract.create", _("Create contracts")
    CONTRACT_CHANGE = "contract.change", _("Edit contracts")
    CONTRACT_APPROVE = "contract.approve", _("Approve contracts")
    CONTRACT_SIGN = "contract.sign", _("Record signing")
    CONTRACT_TERMINATE = "contract.terminate", _("Terminate, renew or expire contracts")
    CONTRACT_ARCHIVE = "contract.archive", _("Archive contracts")
    CONTRACT_EXPORT = "contract.export", _("Export contracts")
    CONTRACT_SHARE = "contract.share", _("Share contracts")
    PARTY_VIEW = "party.view", _("View customers")
    PARTY_CREATE = "party.create", _("Create customers")
    PARTY_CHANGE = "party.change", _("Edit customers")
    PAYMENT_RECORD = "payment.record", _("Record payments and invoices")
    ADMIN = "admin", _("Administer the system")


class DataScope(models.TextChoices):
    OWN = "own", _("Own records")
    DEPARTMENT = "department", _("Own department")
    SUBTREE = "subtree", _("Department and sub-departments")
    ALL = "all", _("All records")


ALL_PERMS = [p.value for p in Perm]

# code -> (Chinese name, English name, permissions, scope)
BUILTIN_ROLES: dict[str, tuple[str, str, list[str], str]] = {
    "admin": ("管理员", "Administrator", ALL_PERMS, DataScope.ALL),
    "sales": (
        "销售",
        "Sales",
        [
            Perm.CONTRACT_VIEW,
            Perm.CONTRACT_CREATE,
            Perm.CONTRACT_CHANGE,
            Perm.CONTRACT_SIGN,
            Perm.CONTRACT_EXPORT,
            Perm.CONTRACT_SHARE,
            Perm.PARTY_VIEW,
            Perm.PARTY_CREATE,
            Perm.PARTY_CHANGE,
        ],
        DataScope.OWN,
    ),
    "legal": (
        "法务",
        "Legal",
        [Perm.CONTRACT_VIEW, Perm.CONTRACT_APPROVE, Perm.CONTRACT_EXPORT, Perm.PARTY_VIEW],
        DataScope.ALL,
    ),
    "finance": (
        "财务",
        "Finance",
        [
            Perm.CONTRACT_VIEW,
            Perm.CONTRACT_APPROVE,
            Perm.CONTRACT_EXPORT,
            Perm.PARTY_VIEW,
            Perm.PAYMENT_RECORD,
        ],
        DataScope.ALL,
    ),
    "manager": (
        "管理层",
        "Management",
        [
            Perm.CONTRACT_VIEW,
            Perm.CONTRACT_APPROVE,
            Perm.CONTRACT_SIGN,
            Perm.CONTRACT_TERMINATE,
            Perm.CONTRACT_ARCHIVE,
            Perm.CONTRACT_EXPORT,
            Perm.CONTRACT_SHARE,
            Perm.PARTY_VIEW,
        ],
        DataScope.ALL,
    ),
    "viewer": ("只读", "Viewer", [Perm.CONTRACT_VIEW, Perm.PARTY_VIEW], DataScope.DEPARTMENT),
}
