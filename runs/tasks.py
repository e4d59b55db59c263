"""Celery tasks: load ids, call one service, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from . import services


@shared_task(name=services.RUN_TASK, bind=True)
def run_segmentation(self, run_id: int) -> None:  # type: ignore[no-untyped-def]
    services.run_execute(run_id=run_id)


@shared_task(name=services.DISPATCH_TASK)
def runs_dispatch() -> None:
    """Send runs whose enqueue failed while the broker was down (scheduled by beat)."""
    services.runs_dispatch()


@worker_ready.connect
def dispatch_on_worker_start(**_: Any) -> None:
    # A worker starting is a sign the broker is back: send what waited for it at once.
    services.runs_dispatch()
