"""Pages of the search area (included by ``qiyue.web.urls``; names are ``web:...``)."""

from django.urls import URLPattern, path

from qiyue.web.views.search import search_instant, search_page

urlpatterns: list[URLPattern] = [
    path("search/", search_page, name="search"),
    path("search/instant/", search_instant, name="search_instant"),
]
