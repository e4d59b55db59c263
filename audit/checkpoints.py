"""Checkpoints of the audit chain, published outside the database.

A chain inside one database cannot show the removal of its newest events, nor a chain rebuilt
by someone who holds the key. Every hour (Celery beat, ``audit.checkpoint``) and on demand
(``manage.py audit_checkpoint``) the head of an intact chain is appended to
``AUDIT_CHECKPOINT_DIR/checkpoints.jsonl`` as ``{"count", "head", "at"}``; verification then
checks by default that the event at each checkpoint's position still carries that hash.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .chain import ChainBreak
from .models import AuditEvent
from .selectors import audit_chain_check

logger = logging.getLogger(__name__)

FILE_NAME = "checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: str


def checkpoint_file() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def checkpoint_publish() -> Checkpoint | None:
    """Append the head of the chain as it stands, if the chain is intact (a broken chain is
    logged and not anchored: a checkpoint must never vouch for a forgery)."""
    count, broken = audit_chain_check()
    if broken is not None:
        logger.error(
            "audit chain broken at event #%s, no checkpoint written: %s", broken.event_id, broken.reason
        )
        return None
    head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    if head is None:
        return None
    checkpoint = Checkpoint(count=count, head=head, at=timezone.now().isoformat())
    path = checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(checkpoint.__dict__, sort_keys=True) + "\n")
    return checkpoint


def checkpoints_read() -> list[Checkpoint]:
    path = checkpoint_file()
    if not path.exists():
        return []
    found = []
    for line in path.read_text().splitlines():
        if line.strip():
            data = json.loads(line)
            found.append(Checkpoint(count=int(data["count"]), head=str(data["head"]), at=str(data["at"])))
    return found


def checkpoint_break() -> ChainBreak | None:
    """The first published checkpoint the chain no longer reaches, or None."""
    for checkpoint in checkpoints_read():
        at_position = AuditEvent.objects.order_by("id").values_list("id", "hash")[
            checkpoint.count - 1 : checkpoint.count
        ]
        row = next(iter(at_position), None)
        if row is None or row[1] != checkpoint.head:
            return ChainBreak(
                row[0] if row else 0,
                f"the checkpoint of {checkpoint.at} ({checkpoint.count} events, head {checkpoint.head[:16]}…) "
                "no longer matches: events were removed or the chain was rewritten",
            )
    return None
