"""The audit chain is keyed, covers every column, and is checked against checkpoints kept outside
the database: an attacker with the database but not the key cannot edit, forge or rebuild it."""

from __future__ import annotations

import hashlib
import hmac
import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from audit.chain import GENESIS, event_hash
from audit.models import AuditEvent
from audit.services import audit_record
from tests.audit.helpers import drop_guards, verify


def append_raw(*, previous: str, action: str, digest) -> int:  # type: ignore[no-untyped-def]
    """Insert an event with SQL as an attacker would, hashed by ``digest(payload)``."""
    created = timezone.now()
    fields = {
        "actor_id": None,
        "actor_name": "mallory",
        "action": action,
        "project_id": None,
        "object_type": "segmentversion",
        "object_id": "1",
        "details": {},
    }
    payload = {"previous_hash": previous, "created_at": created.isoformat(timespec="microseconds"), **fields}
    event = AuditEvent(previous_hash=previous, created_at=created, scheme=2, **fields)
    event.hash = digest(
        json.dumps(payload | {"ip_address": None, "scheme": 2}, sort_keys=True, separators=(",", ":"))
    )
    event.save()
    return event.pk


def request_from(address: str):  # type: ignore[no-untyped-def]
    return RequestFactory().get("/", REMOTE_ADDR=address)


def test_new_events_carry_a_keyed_hash_over_every_column_the_key_is_not_the_secret_key(db):
    event = audit_record(action="login.failed", actor_name="bob", request=request_from("203.0.113.9"))
    assert event.scheme == 2 and event.ip_address == "203.0.113.9"
    assert settings.AUDIT_CHAIN_KEY and settings.AUDIT_CHAIN_KEY != settings.SECRET_KEY
    fields = dict(
        actor_id=None,
        actor_name="bob",
        action="login.failed",
        project_id=None,
        object_type="",
        object_id="",
        details={},
        previous_hash=event.previous_hash,
        created_at=event.created_at,
        scheme=2,
    )
    keyed = event_hash(**fields, ip_address="203.0.113.9", key=settings.AUDIT_CHAIN_KEY.encode())
    assert event.hash == keyed
    assert event.hash != event_hash(
        **fields, ip_address="198.51.100.1", key=settings.AUDIT_CHAIN_KEY.encode()
    )
    assert event.hash != event_hash(**fields, ip_address="203.0.113.9", key=settings.SECRET_KEY.encode())


def test_an_edited_ip_address_is_caught(db):
    events = [
        audit_record(action="login.failed", actor_name="bob", request=request_from("203.0.113.9"))
        for _ in range(3)
    ]
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE governance_auditevent SET ip_address = %s WHERE id = %s", ["198.51.100.1", events[1].pk]
        )
    with pytest.raises(CommandError, match=rf"#{events[1].pk}\b.*altered"):
        verify()


@pytest.mark.parametrize(
    "forger",
    [
        pytest.param(lambda text: hashlib.sha256(text.encode()).hexdigest(), id="unkeyed"),
        pytest.param(
            lambda text: hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest(),
            id="secret-key",
        ),
    ],
)
def test_a_forged_approval_appended_at_the_end_is_caught(db, forger):
    last = audit_record(action="version.submit", actor_name="carol")
    forged = append_raw(previous=last.hash, action="version.approve", digest=forger)
    with pytest.raises(CommandError, match=rf"#{forged}\b.*altered"):
        verify()


def test_an_old_unkeyed_forgery_after_keyed_events_is_caught(db):
    last = audit_record(action="version.submit", actor_name="carol")
    created = timezone.now()
    fields = {
        "actor_id": None,
        "actor_name": "mallory",
        "action": "version.approve",
        "project_id": None,
        "object_type": "",
        "object_id": "",
        "details": {},
    }
    forged = AuditEvent.objects.create(
        previous_hash=last.hash,
        created_at=created,
        scheme=1,
        hash=event_hash(previous_hash=last.hash, created_at=created, **fields),
        **fields,
    )
    with pytest.raises(CommandError, match=rf"#{forged.pk}\b.*unkeyed but follows keyed"):
        verify()


def test_events_written_before_the_key_still_verify_and_the_chain_goes_on_keyed(db):
    created = timezone.now()
    fields = {
        "actor_id": None,
        "actor_name": "t",
        "action": "legacy.event",
        "project_id": None,
        "object_type": "",
        "object_id": "",
        "details": {"a": 1},
    }
    legacy = AuditEvent.objects.create(
        previous_hash=GENESIS,
        created_at=created,
        scheme=1,
        hash=event_hash(previous_hash=GENESIS, created_at=created, **fields),
        **fields,
    )
    after = audit_record(action="test.after", actor_name="t")
    assert after.previous_hash == legacy.hash and after.scheme == 2
    assert "2 events verified" in verify()


def test_checkpoints_outside_the_database_catch_removed_newest_events_by_default(db, audit_checkpoints):
    events = [audit_record(action=f"test.e{i}", actor_name="t") for i in range(4)]
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert f"checkpoint 4 events, head {events[-1].hash}" in out.getvalue()
    written = json.loads((audit_checkpoints / "checkpoints.jsonl").read_text().splitlines()[-1])
    assert written["count"] == 4 and written["head"] == events[-1].hash
    assert "against 1 checkpoint(s)" in verify()
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM governance_auditevent WHERE id >= %s", [events[2].pk])
    with pytest.raises(CommandError, match=r"checkpoint of .* no longer matches"):
        verify()


def test_no_checkpoint_vouches_for_a_broken_chain(db, audit_checkpoints):
    events = [audit_record(action=f"test.e{i}", actor_name="t") for i in range(3)]
    drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_auditevent SET action = 'x' WHERE id = %s", [events[0].pk])
    with pytest.raises(CommandError, match="chain is empty or broken"):
        call_command("audit_checkpoint", stdout=StringIO())
    assert not (audit_checkpoints / "checkpoints.jsonl").exists()


def test_checkpoints_are_published_on_a_schedule():
    from segplatform.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"] == "audit.checkpoint"
    app.loader.import_default_modules()
    assert "audit.checkpoint" in app.tasks
