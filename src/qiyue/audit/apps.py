from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Re-install the append-only triggers after every ``migrate``: on SQLite a later
    migration that alters the table rebuilds it, and the rebuilt table has none."""
    from qiyue.audit import triggers

    connection = connections[using]
    if triggers.TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        triggers.install(cursor.execute, connection.vendor)


class AuditConfig(AppConfig):
    name = "qiyue.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        post_migrate.connect(_ensure_triggers, sender=self, dispatch_uid="audit-triggers")
