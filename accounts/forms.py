from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from segplatform.errors import ApplicationError

from . import services


class LockoutAuthenticationForm(AuthenticationForm):
    """The usual username and password form, refusing early while the account is locked out."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password did not match. Please try again "
        "(both are case-sensitive).",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if username and self.request is not None:
            try:
                services.login_check_not_locked(username=username, request=self.request)
            except ApplicationError as exc:
                raise forms.ValidationError(exc.message, code="locked") from None
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=12,
        label="6-digit code",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
