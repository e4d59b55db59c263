"""Sign-in rules: lockout after repeated failures and the optional TOTP second factor."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from segplatform.errors import ApplicationError
from segplatform.storage import fernet

from .models import ApiToken, TwoFactor


def _client_ip(request: HttpRequest | None) -> str | None:
    # No request (a management command, Client.login): failures recorded without an address.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def login_failures(*, username: str, request: HttpRequest | None) -> int:
    """Failed sign-ins for this username from this address within the lockout window.

    Counted from the audit trail, where every failure is recorded anyway, so the count is shared
    by every web process and survives a restart.
    """
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    return AuditEvent.objects.filter(
        action="auth.login_failed",
        created_at__gte=since,
        ip_address=_client_ip(request),
        details__username=username[:150],
    ).count()


def login_locked_message(username: str) -> str:
    minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
    return (
        f"Too many failed sign-ins for '{username}' from your address. Wait {minutes} minutes and try "
        "again, or ask an administrator to reset your password."
    )


def login_check_not_locked(*, username: str, request: HttpRequest | None) -> None:
    """Refuse a sign-in attempt once the failure limit is reached, without checking the password.

    The refusal itself is audited (``auth.login_locked``) but not counted as a failure, so waiting
    out the window is always enough.
    """
    if login_failures(username=username, request=request) >= settings.LOGIN_FAILURE_LIMIT:
        audit_record(
            action="auth.login_locked",
            actor_name=username[:150],
            request=request,
            details={"username": username[:150]},
        )
        raise ApplicationError(login_locked_message(username))


def two_factor_begin(*, user: AbstractBaseUser) -> TwoFactor:
    """A fresh, unconfirmed secret for the user (replacing an unconfirmed one)."""
    secret = pyotp.random_base32()
    encrypted = fernet().encrypt(secret.encode()).decode()
    device, _ = TwoFactor.objects.update_or_create(
        user=user, defaults={"secret_encrypted": encrypted, "confirmed_at": None}
    )
    return device


def two_factor_verify(*, device: TwoFactor, code: str) -> bool:
    """Accept a code once: its time step must be later than the last accepted one.

    Without this, a code seen over someone's shoulder (or replayed by a proxy) stays good for
    up to 90 seconds. The step is claimed with a conditional UPDATE, so two requests racing with
    the same code cannot both win.
    """
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(device.secret)
    now = timezone.now()
    # One step either side tolerates a phone clock off by up to 30 seconds.
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=offset * totp.interval)
        if not hmac.compare_digest(totp.at(moment), code):
            continue
        step = totp.timecode(moment)
        claimed = (
            TwoFactor.objects.filter(pk=device.pk)
            .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
            .update(last_used_step=step)
        )
        if claimed:
            device.last_used_step = step
        return bool(claimed)
    return False


@transaction.atomic
def two_factor_confirm(*, device: TwoFactor, code: str, request: HttpRequest | None = None) -> None:
    if not two_factor_verify(device=device, code=code):
        raise ApplicationError("That code is not valid: type the 6 digits your app shows now.", field="code")
    device.confirmed_at = timezone.now()
    device.save(update_fields=["confirmed_at"])
    audit_record(action="auth.two_factor_on", actor=device.user, request=request)


def two_factor_disable(
    *, user: AbstractBaseUser, password: str, code: str, request: HttpRequest | None = None
) -> None:
    """Turn the second factor off: only with the current password and a valid code.

    A session left open (or stolen) must not be enough to weaken the account. A wrong password
    or code here counts towards the sign-in lockout, so it cannot be guessed from a session.
    """
    username = user.get_username()
    login_check_not_locked(username=username, request=request)
    device = two_factor_device(user)
    if device is None:
        raise ApplicationError("Two-factor sign-in is already off.")
    if not user.check_password(password):
        _record_failure(username=username, request=request, step="turn off two factors: password")
        raise ApplicationError("That is not your current password.", field="password")
    if not two_factor_verify(device=device, code=code):
        _record_failure(username=username, request=request, step="turn off two factors: code")
        raise ApplicationError(
            "That code is not valid: type the 6 digits your app shows now (each code works once).",
            field="code",
        )
    with transaction.atomic():
        TwoFactor.objects.filter(user=user).delete()
        audit_record(action="auth.two_factor_off", actor=user, request=request)


def two_factor_device(user: AbstractBaseUser) -> TwoFactor | None:
    return TwoFactor.objects.filter(user=user, confirmed_at__isnull=False).first()


def _record_failure(*, username: str, request: HttpRequest | None, step: str) -> None:
    # Counted with password failures by login_failures (same action and username).
    audit_record(
        action="auth.login_failed",
        actor_name=username,
        request=request,
        details={"username": username, "step": step},
    )


def record_failed_second_factor(*, username: str, request: HttpRequest) -> None:
    # Counted with password failures: a stolen password alone cannot guess codes forever.
    _record_failure(username=username, request=request, step="second factor")


API_TOKEN_DEFAULT_NAME = "API token"
API_TOKEN_LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, name: str = API_TOKEN_DEFAULT_NAME, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """A new token under ``name``; a token of the user's with that name stops working at once.

    Returns the record and the key. The key exists only here: it is shown once and never stored.
    """
    name = " ".join(name.split())
    if not name:
        raise ApplicationError("Give the token a name, e.g. the program that will use it.", field="name")
    if len(name) > 100:
        raise ApplicationError("A token's name has at most 100 characters.", field="name")
    replaced = ApiToken.objects.filter(user=user, name=name).delete()[0] > 0
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], digest=api_token_digest(key))
    # The action keeps its historical name: every issue of a token, new or replacing one.
    audit_record(
        action="auth.api_token_rotate",
        actor=user,
        request=request,
        details={"name": name, "prefix": token.prefix, "replaced": replaced},
    )
    return token, key


def api_token_rotate(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> str:
    """A new default-named API token for the user; the previous one stops working at once."""
    return api_token_create(user=user, request=request)[1]


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser, token_id: int, request: HttpRequest | None = None) -> None:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        # Another user's token is answered like a missing one: its existence is not revealed.
        raise ApplicationError("There is no such token: it may have been revoked already.")
    token.delete()
    audit_record(
        action="auth.api_token_revoke",
        actor=user,
        request=request,
        details={"name": token.name, "prefix": token.prefix},
    )


def api_token_user(key: str) -> tuple[AbstractBaseUser, ApiToken] | None:
    """The active user a presented key belongs to, or None."""
    token = ApiToken.objects.select_related("user").filter(digest=api_token_digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # One write a minute at most, not one per request.
    if token.last_used_at is None or now - token.last_used_at > API_TOKEN_LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token.user, token
