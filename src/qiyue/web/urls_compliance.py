"""Pages of the compliance area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views import compliance as views

urlpatterns: list[URLPattern] = [
    path("contracts/<int:pk>/findings/", views.contract_findings, name="contract_findings"),
    path(
        "contracts/<int:pk>/findings/acknowledge/",
        views.contract_acknowledge,
        name="contract_acknowledge",
    ),
    path("contracts/<int:pk>/findings/recheck/", views.contract_recheck, name="contract_recheck"),
    path("settings/compliance/rules/", views.rule_list, name="compliance_rules"),
    path("settings/compliance/rules/new/", views.rule_create, name="compliance_rule_create"),
    path("settings/compliance/rules/<int:pk>/", views.rule_edit, name="compliance_rule_edit"),
    path(
        "settings/compliance/rules/<int:pk>/toggle/",
        views.rule_toggle,
        name="compliance_rule_toggle",
    ),
    path(
        "settings/compliance/rules/<int:pk>/delete/",
        views.rule_delete,
        name="compliance_rule_delete",
    ),
    path("settings/compliance/blocklist/", views.blocklist, name="compliance_blocklist"),
    path(
        "settings/compliance/blocklist/<int:pk>/remove/",
        views.blocklist_remove,
        name="compliance_blocklist_remove",
    ),
]
