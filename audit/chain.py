"""The audit chain's hash: one function, used when writing and when verifying.

Two schemes, told apart by each event's ``scheme``:

- 1, the first: SHA-256 over the event's content without its address. Anyone who could write
  the table could recompute it, so it only ever verifies events written before scheme 2.
- 2, now written: HMAC-SHA256 with ``AUDIT_CHAIN_KEY`` (a key of its own, never ``SECRET_KEY``)
  over every stored column but the row's surrogate id: the predecessor's hash, the time, the
  actor, the action, the project, the object, the details, the IP address and the scheme. The
  order is held by the predecessor links. Without the key nobody can forge, edit or recompute an
  event; an unkeyed event after a keyed one is a forgery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64
UNKEYED, KEYED = 1, 2
CURRENT_SCHEME = KEYED


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
    ip_address: str | None = None,
    scheme: int = UNKEYED,
    key: bytes = b"",
) -> str:
    payload: dict[str, Any] = {
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
    if scheme == UNKEYED:
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()
    if not key:
        raise ValueError("the keyed audit chain needs AUDIT_CHAIN_KEY")
    payload |= {"ip_address": ip_address, "scheme": scheme}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event where the chain does not hold, and why."""

    event_id: int
    reason: str


def first_break(rows: Iterable[Mapping[str, Any]], *, key: bytes) -> ChainBreak | None:
    """Walk events in id order and return the first broken link, or ``None`` if intact.

    An altered row no longer matches its own hash; a removed row leaves its successor pointing
    at a hash that is not its predecessor's; an unkeyed event after a keyed one was forged.
    Either way the event named is where it shows.
    """
    previous, keyed_seen = GENESIS, False
    for row in rows:
        scheme = row.get("scheme", UNKEYED)
        if row["previous_hash"] != previous:
            return ChainBreak(
                row["id"],
                f"event #{row['id']} ({row['action']}) does not follow its predecessor: "
                "an earlier event was removed, altered or inserted",
            )
        if scheme != KEYED and keyed_seen:
            return ChainBreak(
                row["id"],
                f"event #{row['id']} ({row['action']}) is unkeyed but follows keyed events: "
                "it was written by something that does not hold the audit key",
            )
        keyed_seen = keyed_seen or scheme == KEYED
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
            ip_address=row.get("ip_address"),
            scheme=scheme,
            key=key,
        )
        if not hmac.compare_digest(row["hash"], expected):
            return ChainBreak(
                row["id"],
                f"event #{row['id']} ({row['action']}) was altered: its content no longer matches its hash",
            )
        previous = row["hash"]
    return None
