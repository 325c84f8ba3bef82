"""Django admin, used only for administrator pages, writes its audit events too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import model_to_dict

from qiyue.audit.actions import record
from qiyue.audit.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """Records ``<model>.created|changed|deleted`` with the form's changed values."""

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changed = {k: form.cleaned_data.get(k) for k in form.changed_data if k != "password"}
        record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'changed' if change else 'created'}",
            target=obj,
            data={"after": {k: str(v) for k, v in changed.items()}, "via": "admin"},
        )

    def delete_model(self, request: Any, obj: Any) -> None:
        data = {k: str(v) for k, v in model_to_dict(obj).items() if k != "password"}
        record(
            actor=request.user,
            action=f"{obj._meta.model_name}.deleted",
            target=obj,
            data={"before": data, "via": "admin"},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "target_type", "target_id")
    list_filter = ("action", "target_type")
    search_fields = ("actor_name", "action", "target_id")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
