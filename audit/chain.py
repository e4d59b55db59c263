"""The audit chain's hash: one function, used when writing and when verifying."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(
    *,
    previous_hash: str,
    created_at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    project_id: int | None,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> str:
    payload = {
        "previous_hash": previous_hash,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "action": action,
        "project_id": project_id,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event where the chain does not hold, and why."""

    event_id: int
    reason: str


def first_break(rows: Iterable[Mapping[str, Any]]) -> ChainBreak | None:
    """Walk events in id order and return the first broken link, or ``None`` if intact.

    An altered row no longer matches its own hash; a removed row leaves its successor pointing
    at a hash that is not its predecessor's. Either way the event named is where it shows.
    """
    previous = GENESIS
    for row in rows:
        if row["previous_hash"] != previous:
            return ChainBreak(
                row["id"],
                f"event #{row['id']} ({row['action']}) does not follow its predecessor: "
                "an earlier event was removed, altered or inserted",
            )
        expected = event_hash(
            previous_hash=row["previous_hash"],
            created_at=row["created_at"],
            actor_id=row["actor_id"],
            actor_name=row["actor_name"],
            action=row["action"],
            project_id=row["project_id"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            details=row["details"],
        )
        if row["hash"] != expected:
            return ChainBreak(
                row["id"],
                f"event #{row['id']} ({row['action']}) was altered: its content no longer matches its hash",
            )
        previous = row["hash"]
    return None
