"""Signing in: lockout after repeated failures, the optional TOTP second factor, admin resets."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client

from accounts.models import TwoFactor
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, user, password, ip="10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": user.username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_from_that_address(consultant, settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    client = Client()
    for _ in range(5):
        assert "did not match" in attempt(client, consultant, "wrong").content.decode()
    # The right password is refused too while locked, without being checked.
    page = attempt(client, consultant, PASSWORD).content.decode()
    assert "Too many failed sign-ins" in page
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5


def test_the_lockout_is_per_address_and_ends_with_its_window(consultant, settings):
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        attempt(client, consultant, "wrong")
    assert attempt(Client(), consultant, PASSWORD, ip="10.0.0.2").status_code == 302
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 0
    assert attempt(Client(), consultant, PASSWORD).status_code == 302


def enrol(client, user) -> str:  # type: ignore[no-untyped-def]
    client.force_login(user)
    client.post("/accounts/two-factor/", {"action": "start"})
    secret = TwoFactor.objects.get(user=user).secret
    page = client.get("/accounts/two-factor/").content.decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    wrong = client.post("/accounts/two-factor/", {"action": "confirm", "code": "000000"})
    assert "not valid" in wrong.content.decode()
    # The previous step's code (still accepted): each code works once, so the sign-in that
    # follows can use the current one.
    previous = pyotp.TOTP(secret).at(time.time() - 30)
    client.post("/accounts/two-factor/", {"action": "confirm", "code": previous})
    assert TwoFactor.objects.get(user=user).is_active
    client.post("/accounts/logout/")
    return secret


def test_with_two_factor_on_a_password_alone_does_not_sign_in(consultant):
    client = Client()
    secret = enrol(client, consultant)
    response = attempt(client, consultant, PASSWORD)
    assert response["Location"] == "/accounts/login/code/"
    assert client.get("/").status_code == 302  # not signed in yet
    bad = client.post("/accounts/login/code/", {"code": "123456"}, REMOTE_ADDR="10.0.0.1")
    assert "not valid" in bad.content.decode()
    good = client.post("/accounts/login/code/", {"code": pyotp.TOTP(secret).now()})
    assert good.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.two_factor_on", actor=consultant).exists()


def test_the_secret_is_stored_encrypted(consultant):
    client = Client()
    secret = enrol(client, consultant)
    assert secret not in TwoFactor.objects.get(user=consultant).secret_encrypted


def test_an_administrator_resets_a_password_in_the_admin_site(consultant, django_user_model):
    admin = django_user_model.objects.create_superuser("ada", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    url = f"/admin/auth/user/{consultant.pk}/password/"
    response = client.post(
        url, {"password1": "a new long passphrase 42", "password2": "a new long passphrase 42"}
    )
    assert response.status_code == 302
    consultant.refresh_from_db()
    assert consultant.check_password("a new long passphrase 42")


def test_a_non_administrator_cannot_reach_the_reset_page(consultant, reviewer):
    client = Client()
    client.force_login(reviewer)
    response = client.get(f"/admin/auth/user/{consultant.pk}/password/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_user_creates_and_replaces_an_api_token_that_works(consultant):
    from rest_framework.test import APIClient

    client = Client()
    client.force_login(consultant)
    client.post("/accounts/api-token/")
    first = client.get("/accounts/api-token/").context["token"].key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/v1/projects/").status_code == 200
    client.post("/accounts/api-token/")
    assert api.get("/api/v1/projects/").status_code == 401  # the old one is gone
    assert AuditEvent.objects.filter(action="auth.api_token_rotate", actor=consultant).count() == 2
