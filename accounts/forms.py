from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from segplatform.errors import ApplicationError

from . import services


class LockoutFormMixin:
    """Refuse early, with the lockout's own message, while the account is locked out.

    The backend (``accounts.backends``) refuses too; checking here first lets the page say why
    rather than showing "did not match".
    """

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if username:
            try:
                services.login_check_not_locked(username=username, request=self.request)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message, code="locked") from None
        return super().clean()  # type: ignore[misc]


class LockoutAuthenticationForm(LockoutFormMixin, AuthenticationForm):
    """The portal's username and password form."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password did not match. Please try again "
        "(both are case-sensitive).",
    }


class LockoutAdminAuthenticationForm(LockoutFormMixin, AdminAuthenticationForm):
    """``/admin/login/``: the same lockout as the portal, staff accounts only."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        # This form has no code step: a password alone must not open an account that has two factors.
        if services.two_factor_device(user) is not None:
            raise forms.ValidationError(
                "This account signs in with a code: sign in on the portal's login page "
                "(/accounts/login/), then open the admin site.",
                code="two_factor",
            )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="6-digit code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class TwoFactorDisableForm(forms.Form):
    """Turning the second factor off asks for both factors again, not just the session."""

    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        max_length=12,
        label="6-digit code",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        label="Name",
        help_text="What uses it, e.g. “nightly scoring”. A new token under a name in use replaces that one.",
    )
