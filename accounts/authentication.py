"""``Authorization: Token <key>`` against the digests of ``accounts.ApiToken``."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from . import services


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header and answers (401 with ``WWW-Authenticate: Token``), but no key in clear."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        found = services.api_token_user(key)
        if found is None:
            raise exceptions.AuthenticationFailed(
                "Invalid token: create a new one on the portal's API token page."
            )
        return found
