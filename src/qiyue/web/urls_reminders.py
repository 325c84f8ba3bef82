"""Pages of the reminders area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views import reminders as views

urlpatterns: list[URLPattern] = [
    path("reminders/", views.my_reminders, name="my_reminders"),
    path("reminders/<int:pk>/acknowledge/", views.reminder_ack, name="reminder_ack"),
    path("reminders/settings/", views.reminder_settings, name="reminder_settings"),
    path("reminders/calendar/", views.calendar_token, name="calendar_token"),
    path("reminders/one-off/<int:pk>/delete/", views.one_off_delete, name="one_off_delete"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("contracts/<int:pk>/reminders/", views.contract_reminders, name="contract_reminders"),
    path("settings/reminders/", views.rule_list, name="reminder_rules"),
    path("settings/reminders/new/", views.rule_edit, name="reminder_rule_new"),
    path("settings/reminders/<int:pk>/", views.rule_edit, name="reminder_rule_edit"),
    path("settings/reminders/<int:pk>/delete/", views.rule_delete, name="reminder_rule_delete"),
    path("settings/webhooks/", views.webhook_list, name="reminder_webhooks"),
    path("settings/webhooks/<int:pk>/", views.webhook_change, name="reminder_webhook_change"),
]
