"""Administrators manage users, departments, roles and contract types in the admin
pages; every change there is audited, and nobody else gets in."""

from __future__ import annotations

from typing import Any

from qiyue.accounts.models import Department, Role
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import ContractType


def test_admin_edits_role_permissions_with_checkboxes_and_it_is_audited(
    login: Any, org: Any
) -> None:
    role = Role.objects.get(code="viewer")
    client = login(org.admin)
    page = client.get(f"/admin/accounts/role/{role.pk}/change/")
    assert page.status_code == 200
    assert b'type="checkbox"' in page.content
    response = client.post(
        f"/admin/accounts/role/{role.pk}/change/",
        {
            "code": "viewer",
            "name": "只读",
            "name_en": "Viewer",
            "permissions": ["contract.view", "contract.export"],
            "data_scope": "subtree",
        },
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert sorted(role.permissions) == ["contract.export", "contract.view"]
    assert role.data_scope == "subtree"
    assert AuditEvent.objects.filter(action="role.changed", target_id=str(role.pk)).exists()


def test_admin_cannot_save_a_number_pattern_without_seq(login: Any, org: Any) -> None:
    xs = ContractType.objects.get(code="XS")
    response = login(org.admin).post(
        f"/admin/contracts/contracttype/{xs.pk}/change/",
        {
            "code": "XS",
            "name": "销售合同",
            "name_en": "Sales contract",
            "number_pattern": "XS-{year}",
            "is_active": "on",
            "sort_order": "0",
        },
    )
    assert response.status_code == 200  # the form comes back with the error
    xs.refresh_from_db()
    assert xs.number_pattern == "XS-{year}-{seq:05}"


def test_moving_a_department_updates_the_paths_of_its_subtree(login: Any, org: Any) -> None:
    sales1 = org.departments["销售一部"]
    sales2 = org.departments["销售二部"]
    response = login(org.admin).post(
        f"/admin/accounts/department/{sales1.pk}/change/",
        {"name": "销售一部", "parent": sales2.pk, "head": org.head1.pk},
    )
    assert response.status_code == 302
    sales1.refresh_from_db()
    assert sales1.path == f"{sales2.path}{sales1.pk}/"
    assert Department.objects.filter(path__startswith=sales2.path).count() == 2


def test_non_admin_cannot_open_the_admin_pages(login: Any, org: Any) -> None:
    response = login(org.sales1).get("/admin/accounts/role/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
