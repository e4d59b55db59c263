from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.conftest import api_key
from tests.projects.conftest import finished_run, login, quick_run  # noqa: F401  (shared fixtures)


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    """An API client authenticated with a user's token, as a client's engineer would call it."""

    def as_user(user):  # type: ignore[no-untyped-def]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
        return client

    return as_user
