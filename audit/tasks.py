"""Celery tasks of the audit trail: each calls one function."""

from __future__ import annotations

from celery import shared_task

from .checkpoints import checkpoint_publish


@shared_task(name="audit.checkpoint")
def audit_checkpoint_task() -> int | None:
    checkpoint = checkpoint_publish()
    return None if checkpoint is None else checkpoint.count
