"""Sign-in with lockout and an optional TOTP second factor."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from segplatform.errors import ApplicationError

from . import services
from .forms import ApiTokenForm, CodeForm, LockoutAuthenticationForm, TwoFactorDisableForm

PENDING = "two_factor_pending"


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if services.two_factor_device(user) is None:
            return super().form_valid(form)
        # Password right, second factor still to come: not logged in until the code is checked.
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_redirect_url(),
        }
        return redirect("two_factor_verify")


def two_factor_verify(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING)
    if not pending:
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    device = services.two_factor_device(user) if user else None
    if user is None or device is None:
        request.session.pop(PENDING, None)
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.login_check_not_locked(username=user.get_username(), request=request)
        except ApplicationError as exc:
            request.session.pop(PENDING, None)
            messages.error(request, exc.message)
            return redirect("login")
        if services.two_factor_verify(device=device, code=form.cleaned_data["code"]):
            request.session.pop(PENDING, None)
            login(request, user, backend=pending["backend"])
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = ""
            return redirect(target or "projects:dashboard")
        services.record_failed_second_factor(username=user.get_username(), request=request)
        form.add_error("code", "That code is not valid: type the 6 digits your app shows now.")
    return render(request, "registration/two_factor_verify.html", {"form": form})


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Turn the second factor on (secret shown as text, to type into an authenticator app) or off."""
    active = services.two_factor_device(request.user)
    form = CodeForm(request.POST or None)
    disable_form = TwoFactorDisableForm(request.POST if request.POST.get("action") == "disable" else None)
    if (
        request.method == "POST"
        and request.POST.get("action") == "disable"
        and active
        and disable_form.is_valid()
    ):
        try:
            services.two_factor_disable(
                user=request.user,
                password=disable_form.cleaned_data["password"],
                code=disable_form.cleaned_data["code"],
                request=request,
            )
        except ApplicationError as exc:
            disable_form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor_setup")
    if request.method == "POST" and request.POST.get("action") == "start":
        services.two_factor_begin(user=request.user)
        return redirect("two_factor_setup")
    pending = None if active else getattr(request.user, "two_factor", None)
    if request.method == "POST" and request.POST.get("action") == "confirm" and pending and form.is_valid():
        try:
            services.two_factor_confirm(device=pending, code=form.cleaned_data["code"], request=request)
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(
                request, "Two-factor sign-in is on: you will be asked for a code at every login."
            )
            return redirect("two_factor_setup")
    context: dict[str, Any] = {
        "active": active,
        "pending": pending,
        "form": form,
        "disable_form": disable_form,
    }
    if pending:
        secret = pending.secret
        context["secret_groups"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["uri"] = services.pyotp.TOTP(secret).provisioning_uri(
            name=request.user.get_username(), issuer_name="Segplatform"
        )
    return render(request, "registration/two_factor_setup.html", context)


NEW_TOKEN = "api_token_new"


@login_required
def api_token(request: HttpRequest) -> HttpResponse:
    """Create, list and revoke the user's API tokens; a new key is shown once, on the next page."""
    # Bound on every POST, even an empty one: a bare POST issues a token under the default name.
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                services.api_token_revoke(
                    user=request.user, token_id=_int(request.POST.get("token")), request=request
                )
                messages.success(request, "The token was revoked: programs using it are refused from now on.")
                return redirect("api_token")
            if form.is_valid():
                token, key = services.api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"] or services.API_TOKEN_DEFAULT_NAME,
                    request=request,
                )
                # Kept in the session only until the next page shows it; never stored otherwise.
                request.session[NEW_TOKEN] = {"key": key, "name": token.name}
                return redirect("api_token")
        except ApplicationError as exc:
            if exc.field:
                form.add_error(exc.field, exc.message)
            else:
                messages.error(request, exc.message)
    new = request.session.pop(NEW_TOKEN, None) if request.method == "GET" else None
    context = {
        "form": form,
        "token": SimpleNamespace(**new) if new else None,
        "tokens": request.user.api_tokens.all(),
    }
    return render(request, "registration/api_token.html", context)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0
