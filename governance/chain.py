"""The audit chain's hash: one function, used when writing and when verifying."""

from __future__ import annotations

import hashlib
import json
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
