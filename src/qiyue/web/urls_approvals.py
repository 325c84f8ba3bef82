"""Pages of the approvals area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
