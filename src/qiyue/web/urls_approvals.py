"""Pages of the approvals area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views import approvals as views

urlpatterns: list[URLPattern] = [
    path("approvals/", views.inbox, name="approval_inbox"),
    path("approvals/tasks/<int:pk>/", views.task_detail, name="approval_task"),
    path("approvals/tasks/<int:pk>/decide/", views.task_decide, name="approval_decide"),
    path("approvals/tasks/<int:pk>/delegate/", views.task_delegate, name="approval_delegate"),
    path(
        "approvals/tasks/<int:pk>/versions/<int:version_pk>/download/",
        views.task_version_download,
        name="approval_version_download",
    ),
    path("approvals/instances/<int:pk>/comment/", views.instance_comment, name="approval_comment"),
    path("contracts/<int:pk>/approval/withdraw/", views.withdraw, name="approval_withdraw"),
    path("settings/workflows/", views.workflow_list, name="workflow_list"),
    path("settings/workflows/new/", views.workflow_edit, name="workflow_create"),
    path("settings/workflows/<int:pk>/", views.workflow_edit, name="workflow_edit"),
    path("settings/calendar/", views.calendar_page, name="workday_calendar"),
]
