"""Give the built-in finance and admin roles of existing databases the new permission to
record payments and invoices (new databases get it from ``BUILTIN_ROLES``)."""

from typing import Any

from django.db import migrations

CODE = "payment.record"


def grant(apps: Any, schema_editor: Any) -> None:
    Role = apps.get_model("accounts", "Role")
    for role in Role.objects.filter(code__in=["finance", "admin"]):
        perms = list(role.permissions or [])
        if CODE not in perms:
            role.permissions = [*perms, CODE]
            role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("obligations", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
