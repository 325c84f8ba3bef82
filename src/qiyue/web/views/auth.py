"""Logging in and out, and changing one's password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.accounts.actions import (
    change_password,
    clear_login_failures,
    login_locked,
    note_login_failure,
    set_language,
)
from qiyue.web.forms import LoginForm
from qiyue.web.views.common import CHOSEN_LANGUAGE, client_ip, safe_next, set_language_cookie


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(safe_next(request, "web:home"))
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = client_ip(request)
        if login_locked(username, ip):
            form.add_error(None, _("Too many failed attempts; try again later."))
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                note_login_failure(username, ip)
                form.add_error(None, _("Wrong user name or password."))
            else:
                clear_login_failures(username)
                chosen = request.session.get(CHOSEN_LANGUAGE)
                login(request, user)
                request.session.pop(CHOSEN_LANGUAGE, None)
                if chosen and chosen != user.language:
                    # Picked on this login page just now: the newer wish, kept as theirs.
                    set_language(actor=user, language=chosen)
                response = redirect(safe_next(request, "web:home"))
                set_language_cookie(response, user.language)
                return response
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(request, "web/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:login")


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        change_password(
            actor=user,  # type: ignore[arg-type]
            user=user,  # type: ignore[arg-type]
            new_password=form.cleaned_data["new_password1"],
        )
        update_session_auth_hash(request, user)  # type: ignore[arg-type]
        messages.success(request, _("Your password has been changed."))
        return redirect("web:account")
    return render(request, "web/password_change.html", {"form": form})
