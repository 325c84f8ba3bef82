from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView

from qiyue.api.router import api


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the process answers; touches no database."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    # Where people look for the API's documentation first.
    path("api/", RedirectView.as_view(pattern_name="api:openapi-view")),
    path("api/docs", RedirectView.as_view(pattern_name="api:openapi-view")),
    path("", include("qiyue.web.urls")),
]
