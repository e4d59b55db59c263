"""The one authentication backend: Django's model backend behind the sign-in lockout.

Every way in (the portal's login, ``/admin/login/``, any API login) ends in
``django.contrib.auth.authenticate``, so refusing a locked username here, before the password is
checked, gives all of them one lockout. Failures are recorded by ``audit.receivers`` from
Django's ``user_login_failed`` signal, which ``authenticate`` sends for a refusal here too.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from segplatform.errors import ApplicationError

from . import services


class LockoutModelBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username:
            try:
                services.login_check_not_locked(username=str(username), request=request)
            except ApplicationError:
                # PermissionDenied stops authenticate() at once: no other backend gets a try.
                raise PermissionDenied(services.login_locked_message(str(username))) from None
        return super().authenticate(request, username=username, password=password, **kwargs)
