from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.models import ApiToken, Department, Role, User
from qiyue.accounts.permissions import Perm
from qiyue.audit.admin import AuditedModelAdmin


@admin.register(User)
class UserAdmin(AuditedModelAdmin, BaseUserAdmin):
    list_display = ("username", "display_name", "department", "role", "is_active")
    list_filter = ("department", "role", "is_active")
    list_select_related = ("department", "role")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Qiyue"), {"fields": ("display_name", "department", "role", "language", "phone")}),
    )


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = ("name", "parent", "head", "path")
    list_select_related = ("parent", "head")
    readonly_fields = ("path",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        path = obj.compute_path()
        if path != obj.path:
            old = obj.path
            obj.path = path
            obj.save(update_fields=["path"])
            if old:
                for child in Department.objects.filter(path__startswith=old).exclude(pk=obj.pk):
                    child.path = path + child.path[len(old) :]
                    child.save(update_fields=["path"])


class RoleForm(forms.ModelForm):
    """Permissions as checkboxes instead of a raw JSON list."""

    permissions = forms.MultipleChoiceField(
        label=_("permissions"),
        choices=Perm.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Role
        fields = ("code", "name", "name_en", "permissions", "data_scope")


@admin.register(Role)
class RoleAdmin(AuditedModelAdmin):
    form = RoleForm
    list_display = ("code", "name", "name_en", "data_scope")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("token_hash", "prefix", "created_at", "last_used_at")
    list_select_related = ("user",)
