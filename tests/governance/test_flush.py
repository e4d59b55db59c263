"""A whole-database flush (test teardown, development reset) works and leaves the guards in place."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from audit.models import AuditEvent
from audit.services import audit_record


@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_audit_trail_and_the_guards_come_back():
    audit_record(action="test.before_flush", actor_name="t")

    call_command("flush", interactive=False, verbosity=0)

    assert not AuditEvent.objects.exists()
    event = audit_record(action="test.after_flush", actor_name="t")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
