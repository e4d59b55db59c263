"""A user's optional TOTP second factor; the secret is stored encrypted with the data key."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from segplatform.storage import fernet


class TwoFactor(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty until a first code is accepted."
    )
    last_used_step = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The TOTP time step of the last accepted code: a code is accepted only once.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"two-factor for {self.user}"

    @property
    def secret(self) -> str:
        return fernet().decrypt(self.secret_encrypted.encode()).decode()

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None


class ApiToken(models.Model):
    """An API token, stored only as a digest: a copy of the database does not open the API.

    The key is random (256 bits), so a plain SHA-256 is enough: no slow hash is needed against
    guessing. ``prefix`` (its first characters) tells a user's tokens apart on the page.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="api_token_name_per_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"
