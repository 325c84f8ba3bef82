"""The REST API, mounted at ``/api/v1/`` (see ``qiyue.urls``).

One router per domain; this module joins them, sets authentication (bearer token or
browser session), the JSON error shape and the offline docs page."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI

from qiyue.api import (
    accounts,
    approvals,
    compliance,
    contracts,
    documents,
    errors,
    obligations,
    parties,
    reminders,
    review,
    search,
)
from qiyue.api.auth import SessionAuth, TokenAuth
from qiyue.api.docs import OfflineSwagger, docs_asset, not_found
from qiyue.api.rendering import RENDERER

DESCRIPTION = """\
The REST API of Qiyue (契约), for CRM, ERP and scripts.

**Authentication.** Send `Authorization: Bearer <token>` with a personal token
(`qiyue token create USERNAME`); press *Authorize* above to try it here. A user logged in
to the web interface may also call the API from this page (session and CSRF token).

**Errors** are JSON: `{"code": "...", "message": "...", "errors": {"field": "..."}}`, the
message in the user's language. Records the caller may not see answer 404.

**Lists** are `{"items": [...], "next": "<path of the next page>" | null}`, newest first;
`page_size` is 1 to 200.

**Edits** are optimistic: read the record, send its `ETag` back in `If-Match` with the
PATCH; a record changed meanwhile answers 412, a PATCH without `If-Match` 428.
"""


class QiyueAPI(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        urls.insert(0, path("docs/assets/<str:name>", docs_asset, name="docs-asset"))
        urls.append(re_path(r"^.*$", csrf_exempt(not_found), name="not-found"))
        return urls


api = QiyueAPI(
    title="Qiyue API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    renderer=RENDERER,
    docs=OfflineSwagger(),
)
errors.install(api)
documents.install_errors(api)
api.add_router("", contracts.router)
api.add_router("", parties.router)
api.add_router("", accounts.router)
api.add_router("", documents.router)
api.add_router("", search.router)
api.add_router("", approvals.router)
api.add_router("", compliance.router)
api.add_router("", obligations.router)
api.add_router("", reminders.router)
api.add_router("", review.router)
