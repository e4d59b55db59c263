"""The audit trail moved from governance to its own app without touching its table or its rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.chain import GENESIS, event_hash

BEFORE_MOVE = [("governance", "0006_dp_releases"), ("audit", None)]


@pytest.mark.django_db(transaction=True)
def test_events_written_before_the_move_are_read_and_verified_after_it() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE_MOVE)
    old_state = MigrationExecutor(connection).loader.project_state(BEFORE_MOVE[:1])
    OldEvent = old_state.apps.get_model("governance", "AuditEvent")
    created_at = timezone.now()
    fields = {
        "actor_id": None,
        "actor_name": "system",
        "action": "project.create",
        "project_id": None,
        "object_type": "project",
        "object_id": "1",
        "details": {"name": "before the move"},
    }
    OldEvent.objects.create(
        **fields,
        created_at=created_at,
        previous_hash=GENESIS,
        hash=event_hash(previous_hash=GENESIS, created_at=created_at, **fields),
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    from audit.models import AuditEvent
    from audit.selectors import audit_chain_check

    assert AuditEvent._meta.db_table == "governance_auditevent"
    event = AuditEvent.objects.get()
    assert event.details == {"name": "before the move"}
    assert audit_chain_check() == (1, None)
