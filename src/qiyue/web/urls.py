from django.urls import include, path

from qiyue.web import views
from qiyue.web.views import documents as docs
from qiyue.web.views.audit import audit_export, audit_log_page, contract_audit
from qiyue.web.views.export import contract_export
from qiyue.web.views.notifications import notification_list, notification_read

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("language/", views.language, name="language"),
    path("account/", views.account, name="account"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/tokens/", views.token_create, name="token_create"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("contracts/", views.contract_list, name="contract_list"),
    path("contracts/new/", views.contract_create, name="contract_create"),
    path("contracts/export.csv", contract_export, name="contract_export"),
    path("contracts/autocomplete/", views.contract_autocomplete, name="contract_autocomplete"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/audit/", contract_audit, name="contract_audit"),
    path("contracts/<int:pk>/transition/", views.contract_transition, name="contract_transition"),
    path("contracts/<int:pk>/share/", views.contract_share, name="contract_share"),
    path(
        "contracts/<int:pk>/shares/<int:share_pk>/delete/",
        views.contract_unshare,
        name="contract_unshare",
    ),
    path("contracts/<int:pk>/documents/", docs.contract_documents, name="contract_documents"),
    path("contracts/<int:pk>/documents/upload/", docs.document_upload, name="document_upload"),
    path("documents/<int:pk>/", docs.document_detail, name="document_detail"),
    path("documents/<int:pk>/compare/", docs.document_compare, name="document_compare"),
    path("document-versions/<int:pk>/", docs.version_detail, name="version_detail"),
    path("document-versions/<int:pk>/pages/<int:page>.png", docs.version_page, name="version_page"),
    path("document-versions/<int:pk>/download/", docs.version_download, name="version_download"),
    path("audit/", audit_log_page, name="audit_log"),
    path("audit/export.csv", audit_export, name="audit_export"),
    path("parties/", views.party_list, name="party_list"),
    path("parties/new/", views.party_create, name="party_create"),
    path("parties/autocomplete/", views.party_autocomplete, name="party_autocomplete"),
    path("parties/<int:pk>/", views.party_detail, name="party_detail"),
    path("parties/<int:pk>/edit/", views.party_edit, name="party_edit"),
    path("parties/<int:pk>/contacts/", views.party_add_contact, name="party_add_contact"),
    path("notifications/", notification_list, name="notifications"),
    path("notifications/read/", notification_read, name="notification_read"),
    # Each area below keeps its pages in its own URL module (names stay in "web:").
    path("", include("qiyue.web.urls_approvals")),
    path("", include("qiyue.web.urls_obligations")),
    path("", include("qiyue.web.urls_reminders")),
    path("", include("qiyue.web.urls_review")),
    path("", include("qiyue.web.urls_compliance")),
    path("", include("qiyue.web.urls_search")),
    path("", include("qiyue.web.urls_admin")),
]
