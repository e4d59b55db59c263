"""What the audit tests do as an attacker would, and the verification they check it against."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.db import connection


def drop_guards() -> None:
    """What a privileged attacker would do first: remove the database's own triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER governance_auditevent_immutable ON governance_auditevent")
        else:
            cursor.execute("DROP TRIGGER governance_auditevent_no_update")
            cursor.execute("DROP TRIGGER governance_auditevent_no_delete")


def verify() -> str:
    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()
