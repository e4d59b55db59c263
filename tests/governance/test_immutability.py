"""The database refuses to change versions and audit events; the chain catches what gets past it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from governance.models import SegmentVersion
from tests.audit.helpers import drop_guards, verify


def test_the_database_refuses_to_update_a_version(finished_run):
    version = finished_run.version
    with pytest.raises(DatabaseError), transaction.atomic():
        SegmentVersion.objects.filter(pk=version.pk).update(version_hash="0" * 64)
    version.refresh_from_db()
    assert version.version_hash != "0" * 64


def test_the_database_refuses_raw_sql_deleting_a_version(finished_run):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_segmentversion WHERE id = %s", [finished_run.version.pk])
    assert SegmentVersion.objects.filter(pk=finished_run.version.pk).exists()


def test_the_database_refuses_to_update_or_delete_an_audit_event(db):
    event = audit_record(action="test.event", actor_name="t", details={"a": 1})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.other")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk)._raw_delete(using="default")
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_verify_audit_log_passes_on_an_intact_chain(finished_run):
    assert "intact" in verify()


def test_verify_audit_log_names_an_altered_event_even_without_the_triggers(db):
    events = [audit_record(action=f"test.e{i}", actor_name="t", details={"i": i}) for i in range(5)]
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_auditevent SET details = %s WHERE id = %s", ['{"i": 99}', events[2].pk]
        )
    with pytest.raises(CommandError, match=rf"#{events[2].pk}\b.*altered"):
        verify()


def test_verify_audit_log_names_the_event_after_a_removed_one(db):
    events = [audit_record(action=f"test.e{i}", actor_name="t") for i in range(5)]
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=rf"#{events[3].pk}\b.*does not follow"):
        verify()


def test_an_anchor_catches_events_removed_from_the_end(db):
    events = [audit_record(action=f"test.e{i}", actor_name="t") for i in range(3)]
    assert f"head {events[-1].hash}" in verify()
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id = %s", [events[-1].pk])
    assert "intact" in verify()  # the chain alone cannot tell
    with pytest.raises(CommandError, match=r"anchored event .* is gone"):
        call_command("verify_audit_log", "--anchor", events[-1].hash, stdout=StringIO())
