"""Celery tasks: load ids, call one service, nothing else."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.RUN_TASK, bind=True)
def run_segmentation(self, run_id: int) -> None:  # type: ignore[no-untyped-def]
    services.run_execute(run_id=run_id)
