"""Celery tasks of the governance layer: each calls one service."""

from __future__ import annotations

from celery import shared_task

from .erasure import retention_purge


@shared_task(name="governance.retention_purge")
def retention_purge_task() -> dict[str, int]:
    return retention_purge()
