"""Administrators' settings pages (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import path

from qiyue.web.views.settings import settings_hub

urlpatterns = [
    path("settings/", settings_hub, name="settings"),
]
