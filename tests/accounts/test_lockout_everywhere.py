"""One sign-in lockout for every way in: the portal, the admin site and authenticate() itself."""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory

from accounts import services
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

IP = "10.0.0.9"


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_superuser("ada", password=PASSWORD)


def admin_attempt(client, username, password):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=IP
    )


def portal_attempt(client, username, password):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=IP)


def test_admin_login_refuses_the_right_password_after_the_limit(staff, settings):
    client = Client()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert admin_attempt(client, "ada", "wrong").status_code == 200
    page = admin_attempt(client, "ada", PASSWORD)
    assert page.status_code == 200
    assert "Too many failed sign-ins" in page.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action="auth.login_failed", ip_address=IP)
    assert failed.count() == settings.LOGIN_FAILURE_LIMIT
    assert AuditEvent.objects.filter(action="auth.login_locked", details__username="ada").count() == 1
    # From another address the account still opens.
    other = client.post(
        "/admin/login/?next=/admin/", {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.0.0.10"
    )
    assert other.status_code == 302


def test_failures_on_the_admin_site_lock_the_portal_and_the_other_way_round(staff, settings):
    limit = settings.LOGIN_FAILURE_LIMIT
    client = Client()
    for _ in range(limit - 1):
        admin_attempt(client, "ada", "wrong")
    portal_attempt(client, "ada", "wrong")
    assert "Too many failed sign-ins" in portal_attempt(client, "ada", PASSWORD).content.decode()
    assert "Too many failed sign-ins" in admin_attempt(client, "ada", PASSWORD).content.decode()


def test_authenticate_itself_refuses_a_locked_username(consultant, settings):
    """Any other way in (an API login, basic auth) goes through authenticate() and meets the lockout."""
    request = RequestFactory().post("/api/", REMOTE_ADDR=IP)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert authenticate(request, username=consultant.username, password="wrong") is None
    assert authenticate(request, username=consultant.username, password=PASSWORD) is None
    assert AuditEvent.objects.filter(action="auth.login_locked", ip_address=IP).count() == 1
    # Another address is not locked.
    elsewhere = RequestFactory().post("/api/", REMOTE_ADDR="10.0.0.10")
    assert authenticate(elsewhere, username=consultant.username, password=PASSWORD) == consultant


def test_the_admin_login_does_not_skip_a_second_factor(staff):
    device = services.two_factor_begin(user=staff)
    services.two_factor_confirm(device=device, code=pyotp.TOTP(device.secret).now())
    page = admin_attempt(Client(), "ada", PASSWORD)
    assert "signs in with a code" in page.content.decode()
