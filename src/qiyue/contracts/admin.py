from django.contrib import admin

from qiyue.audit.admin import AuditedModelAdmin
from qiyue.contracts.models import ContractType, NumberSequence


@admin.register(ContractType)
class ContractTypeAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "name_en", "number_pattern", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")


@admin.register(NumberSequence)
class NumberSequenceAdmin(AuditedModelAdmin):
    list_display = ("contract_type", "year", "last")
    list_select_related = ("contract_type",)
    readonly_fields = ("contract_type", "year", "last")

    def has_add_permission(self, request):
        return False
