"""A code works once, two factors come off only with both factors, and passwords must be strong."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import TwoFactor
from audit.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def enrol(user) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    client.post("/accounts/two-factor/", {"action": "start"})
    totp = pyotp.TOTP(TwoFactor.objects.get(user=user).secret)
    client.post("/accounts/two-factor/", {"action": "confirm", "code": totp.at(time.time() - 30)})
    assert TwoFactor.objects.get(user=user).is_active
    return totp


def password_step(client, user):  # type: ignore[no-untyped-def]
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/login/code/"


def test_a_code_accepted_once_is_refused_the_second_time(consultant):
    totp = enrol(consultant)
    code = totp.now()
    first = Client()
    password_step(first, consultant)
    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302
    # Someone who saw the code (or replays the request) within its 30 seconds gets nowhere.
    second = Client()
    password_step(second, consultant)
    replay = second.post("/accounts/login/code/", {"code": code})
    assert replay.status_code == 200 and "not valid" in replay.content.decode()
    assert "_auth_user_id" not in second.session
    # An older code than the last accepted one is refused too.
    older = second.post("/accounts/login/code/", {"code": totp.at(time.time() - 30)})
    assert "not valid" in older.content.decode()


def test_the_confirming_code_cannot_sign_in(consultant):
    client = Client()
    client.force_login(consultant)
    client.post("/accounts/two-factor/", {"action": "start"})
    totp = pyotp.TOTP(TwoFactor.objects.get(user=consultant).secret)
    code = totp.now()
    client.post("/accounts/two-factor/", {"action": "confirm", "code": code})
    other = Client()
    password_step(other, consultant)
    assert "not valid" in other.post("/accounts/login/code/", {"code": code}).content.decode()


def test_turning_two_factor_off_needs_the_password_and_a_code(consultant):
    totp = enrol(consultant)
    client = Client()
    client.force_login(consultant)
    # The session alone (the old form) is not enough.
    bare = client.post("/accounts/two-factor/", {"action": "disable"})
    assert bare.status_code == 200 and "This field is required" in bare.content.decode()
    wrong_password = client.post(
        "/accounts/two-factor/", {"action": "disable", "password": "not my password", "code": totp.now()}
    )
    assert "not your current password" in wrong_password.content.decode()
    wrong_code = client.post(
        "/accounts/two-factor/", {"action": "disable", "password": PASSWORD, "code": "000000"}
    )
    assert "code is not valid" in wrong_code.content.decode()
    assert TwoFactor.objects.get(user=consultant).is_active
    # Each refusal counts towards the sign-in lockout.
    assert (
        AuditEvent.objects.filter(action="auth.login_failed", details__username=consultant.username).count()
        == 2
    )
    done = client.post(
        "/accounts/two-factor/", {"action": "disable", "password": PASSWORD, "code": totp.now()}
    )
    assert done.status_code == 302
    assert not TwoFactor.objects.filter(user=consultant).exists()
    assert AuditEvent.objects.filter(action="auth.two_factor_off", actor=consultant).count() == 1


def test_turning_two_factor_off_is_refused_while_locked_out(consultant, settings):
    totp = enrol(consultant)
    settings.LOGIN_FAILURE_LIMIT = 2
    client = Client()
    client.force_login(consultant)
    for _ in range(2):
        client.post("/accounts/two-factor/", {"action": "disable", "password": "guess", "code": "000000"})
    locked = client.post(
        "/accounts/two-factor/", {"action": "disable", "password": PASSWORD, "code": totp.now()}
    )
    assert locked.status_code == 200 and "Too many failed sign-ins" in locked.content.decode()
    assert TwoFactor.objects.filter(user=consultant).exists()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Shortpass1!", "at least 12 characters"),
        ("password1234", "too common"),
        ("582039485720", "entirely numeric"),
        ("rita-example-user", "too similar"),
    ],
)
def test_the_admin_password_reset_refuses_weak_passwords(reviewer, django_user_model, password, why):
    reviewer.email = "rita-example-user@example.com"
    reviewer.username = "rita-example-user"
    reviewer.save()
    admin = django_user_model.objects.create_superuser("ada", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{reviewer.pk}/password/", {"password1": password, "password2": password}
    )
    assert response.status_code == 200 and why in response.content.decode()
    reviewer.refresh_from_db()
    assert reviewer.check_password(PASSWORD)


def test_createsuperuser_without_input_refuses_a_weak_password(monkeypatch, django_user_model):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "short")
    with pytest.raises(CommandError, match="too weak"):
        call_command("createsuperuser", "--noinput", username="root", email="root@example.com")
    assert not django_user_model.objects.filter(username="root").exists()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long and uncommon passphrase")
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com", verbosity=0)
    assert django_user_model.objects.get(username="root").is_superuser


def test_createsuperuser_typed_does_not_offer_to_bypass_the_validators(monkeypatch, django_user_model):
    from django.contrib.auth.management.commands import createsuperuser

    typed = iter(["short", "short", "a long and uncommon passphrase", "a long and uncommon passphrase"])
    monkeypatch.setattr(createsuperuser.getpass, "getpass", lambda prompt="": next(typed))
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")  # would say yes to bypassing
    call_command("createsuperuser", username="root", email="root@example.com", stdin=_Tty(), verbosity=0)
    assert django_user_model.objects.get(username="root").check_password("a long and uncommon passphrase")


class _Tty:
    def isatty(self) -> bool:
        return True
