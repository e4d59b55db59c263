from __future__ import annotations

from django.contrib import admin

from .forms import LockoutAdminAuthenticationForm
from .models import TwoFactor

# The admin site's own login form would skip the lockout's message; the backend refuses either way.
admin.site.login_form = LockoutAdminAuthenticationForm


@admin.register(TwoFactor)
class TwoFactorAdmin(admin.ModelAdmin):
    """Lets an administrator remove a lost second factor; the secret itself is never shown."""

    list_display = ["user", "confirmed_at", "created_at"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = ["user", "confirmed_at", "created_at"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
