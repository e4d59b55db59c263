"""``createsuperuser`` that always applies AUTH_PASSWORD_VALIDATORS.

Django's own command skips them with ``--noinput`` (DJANGO_SUPERUSER_PASSWORD) and offers to
bypass them when typing one: the most powerful account would get the weakest password.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.management.commands import createsuperuser as django_command
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


class Command(django_command.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password is not None:
            username = options.get(self.UserModel.USERNAME_FIELD) or os.environ.get(
                f"DJANGO_SUPERUSER_{self.UserModel.USERNAME_FIELD.upper()}", ""
            )
            email = options.get("email") or os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
            fields = {self.UserModel.USERNAME_FIELD: username}
            if hasattr(self.UserModel, "email"):
                fields["email"] = email
            try:
                validate_password(password, self.UserModel(**fields))
            except ValidationError as exc:
                raise CommandError(
                    "DJANGO_SUPERUSER_PASSWORD is too weak: " + " ".join(exc.messages)
                ) from None
        # Django asks "Bypass password validation and create user anyway?" through input():
        # answer no, so the prompt for a password comes back instead.
        django_command.input = self._refuse_bypass  # type: ignore[attr-defined]
        try:
            super().handle(*args, **options)
        finally:
            del django_command.input  # type: ignore[attr-defined]

    def _refuse_bypass(self, prompt: str = "") -> str:
        if prompt.startswith("Bypass password validation"):
            self.stderr.write("Choose a stronger password: the validators cannot be bypassed here.")
            return "n"
        return input(prompt)
