"""The user's own settings: language and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from qiyue.accounts.actions import AccountError, create_api_token, revoke_api_token, set_language
from qiyue.accounts.queries import tokens_of
from qiyue.web.forms import TokenForm
from qiyue.web.views.common import CHOSEN_LANGUAGE, redirect_next, set_language_cookie


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/account.html",
        {"tokens": tokens_of(request.user), "token_form": TokenForm()},  # type: ignore[arg-type]
    )


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A token needs a name of 1 to 100 characters."))
        return redirect("web:account")
    try:
        token, raw = create_api_token(
            actor=request.user,  # type: ignore[arg-type]
            user=request.user,  # type: ignore[arg-type]
            name=form.cleaned_data["name"],
        )
    except AccountError:
        messages.error(request, _("A token needs a name of 1 to 100 characters."))
        return redirect("web:account")
    # Rendered, not redirected: the raw token exists only in this (never cached) response.
    return render(request, "web/token_created.html", {"token": token, "raw": raw})


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens_of(request.user).filter(pk=pk).first()  # type: ignore[arg-type]
    if token is None:
        raise Http404
    revoke_api_token(actor=request.user, token=token)  # type: ignore[arg-type]
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("web:account")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: remembered on the user and in a cookie, so the
    login page (before anyone is known) speaks it too."""
    code = request.POST.get("language", "")
    if code not in dict(settings.LANGUAGES):
        messages.error(request, _("Unknown language."))
        return redirect_next(request, "web:home")
    if request.user.is_authenticated:
        set_language(actor=request.user, language=code)
    else:  # chosen on the login page: it wins over the stored one at login (login_view)
        request.session[CHOSEN_LANGUAGE] = code
    translation.activate(code)
    response = redirect_next(request, "web:home")
    set_language_cookie(response, code)
    return response
