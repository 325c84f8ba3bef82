"""Errors of the REST API: one JSON shape for every refusal, in the caller's language.

Every error answers ``{"code": "...", "message": "...", "errors": {field: message}}``.
The codes are stable and meant for machines; messages are for people and follow the
language of the authenticated user (or the request's, before authentication).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError, ValidationError

from qiyue.contracts.actions import ContractError
from qiyue.contracts.queries import FilterError
from qiyue.parties.actions import NotAllowed as PartyNotAllowed
from qiyue.parties.actions import PartyError
from qiyue.parties.actions import StaleEdit as PartyStaleEdit

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

# ContractError.code -> HTTP status. A refusal because of the record's state is a
# conflict (409); one because of who asks is 403 (only ever for a record the caller can
# see: invisible records answer 404 before any action runs).
CONTRACT_STATUS = {
    "invalid": 400,
    "unknown_state": 400,
    "stale": 412,
    "forbidden": 403,
    "not_found": 404,
    "invalid_transition": 409,
    "comment_required": 409,
    "incomplete": 409,
    "state": 409,
}

PARAM_SOURCES = {"body", "payload", "query", "path", "header", "cookie", "form", "params"}


class ApiError(Exception):
    """An error the API answers as JSON; raised by the endpoints themselves."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}


def not_found() -> ApiError:
    return ApiError(404, "not_found", _("Not found."))


def forbidden(message: str | None = None) -> ApiError:
    return ApiError(403, "forbidden", message or _("You may not do this."))


def invalid(errors: dict[str, str], message: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message or _summary(errors), errors)


def _summary(errors: dict[str, str]) -> str:
    """The message of an error with field errors: the form-wide one if there is one."""
    if "__all__" in errors:
        return errors["__all__"]
    return _("Please correct the fields marked in errors.")


def error_body(code: str, message: str, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or {}}


def _field_message(error: dict[str, Any]) -> str:
    """A pydantic error as a sentence people read; Django's own wording where it exists,
    so the message is translated in both languages."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "string_too_long":
        return _("At most %(n)d characters.") % {"n": int(ctx.get("max_length", 0))}
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": limit
        }
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": limit
        }
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind.startswith("date"):
        return _("Enter a valid date.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind == "json_invalid":
        return _("Enter a valid JSON.")
    if kind == "list_type":
        return _("Enter a list of values.")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return _("Send a JSON object.")
    return _("Enter a valid value.")


def _field_name(loc: Any) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    names = [p for p in parts if p not in PARAM_SOURCES]
    return names[0] if names else "__all__"


def validation_errors(exc: ValidationError) -> tuple[int, dict[str, str]]:
    errors: dict[str, str] = {}
    in_path = True
    for error in exc.errors:
        loc = error.get("loc") or ()
        if not loc or loc[0] != "path":
            in_path = False
        errors.setdefault(_field_name(loc), _field_message(error))
    # A malformed id in the URL names no record: that is "not found", not bad input.
    return (404 if in_path and exc.errors else 400), errors


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def install(api: NinjaAPI) -> None:
    """Register the handlers that turn every failure into the JSON error shape."""

    def respond(
        request: HttpRequest,
        status: int,
        code: str,
        message: str,
        errors: dict[str, str] | None = None,
    ) -> HttpResponse:
        response = api.create_response(request, error_body(code, message, errors), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="qiyue"'
        return response

    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, exc.code, exc.message, exc.errors)

    @api.exception_handler(ContractError)
    def _contract_error(request: HttpRequest, exc: ContractError) -> HttpResponse:
        status = CONTRACT_STATUS.get(exc.code, 400)
        if status == 404:
            return respond(request, 404, "not_found", _("Not found."))
        errors = dict(exc.errors)
        message = errors.pop("__all__", "") or _summary(errors)
        return respond(request, status, exc.code, message, errors)

    @api.exception_handler(PartyError)
    def _party_error(request: HttpRequest, exc: PartyError) -> HttpResponse:
        errors = dict(exc.errors)
        if isinstance(exc, PartyStaleEdit):
            message = errors.pop("version", "") or _summary(errors)
            return respond(request, 412, "stale", message, errors)
        message = errors.pop("__all__", "") or _summary(errors)
        if isinstance(exc, PartyNotAllowed):
            return respond(request, 403, "forbidden", message, errors)
        return respond(request, 400, "invalid", message, errors)

    @api.exception_handler(FilterError)
    def _filter_error(request: HttpRequest, exc: FilterError) -> HttpResponse:
        return respond(request, 400, "invalid", _summary(exc.errors), exc.errors)

    @api.exception_handler(ValidationError)
    def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        status, errors = validation_errors(exc)
        if status == 404:
            return respond(request, 404, "not_found", _("Not found."))
        return respond(request, 400, "invalid", _summary(errors), errors)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            request,
            401,
            "unauthenticated",
            _("Authentication required: send 'Authorization: Bearer <token>' or log in."),
        )

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        if status == 403:
            # ninja's only 403 is the CSRF check of session authentication.
            return respond(
                request, 403, "csrf", _("CSRF check failed: send the X-CSRFToken header.")
            )
        if status == 400:
            # ninja's only 400 is a body it could not read: not JSON, or too large.
            if _content_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return respond(request, 400, "invalid", _("The request is too large."))
            return respond(request, 400, "invalid", _("The request body is not valid JSON."))
        if status == 429:
            return respond(request, 429, "throttled", _("Too many requests; try again later."))
        return respond(request, status, "error", str(exc))

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            message = _("The request is too large.")
        else:
            message = _("The request was refused.")
        return respond(request, 400, "invalid", message)

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if settings.DEBUG:
            raise exc
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", _("Something went wrong on our side."))
