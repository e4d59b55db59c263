"""Celery tasks: load ids, call one service, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from . import datasets, liveness, outbox, services


# Acknowledged after the run, and requeued when the worker dies: a redelivered run is harmless,
# since run_execute only claims queued runs (a running, finished or failed one is left as it is),
# and a run the reaper put back in the queue is claimed by one worker only, whichever message wins.
@shared_task(name=outbox.RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def run_segmentation(self, run_id: int) -> None:  # type: ignore[no-untyped-def]
    services.run_execute(run_id=run_id)


@shared_task(name=outbox.DISPATCH_TASK)
def runs_dispatch() -> None:
    """Send runs whose enqueue failed while the broker was down (scheduled by beat)."""
    outbox.runs_dispatch()
    datasets.datasets_dispatch()


@shared_task(name=liveness.REAP_TASK)
def runs_reap() -> None:
    """Requeue (RUN_LOST_RETRIES times) or fail running runs whose worker stopped beating (beat)."""
    liveness.runs_reap()


@worker_ready.connect
def dispatch_on_worker_start(**_: Any) -> None:
    # A worker starting is a sign the broker is back: send what waited for it at once.
    outbox.runs_dispatch()
    datasets.datasets_dispatch()


# Acknowledged after the check and requeued when the worker dies, as a run is: a second delivery
# finds the dataset no longer checking and leaves it.
@shared_task(name=datasets.INSPECT_TASK, acks_late=True, reject_on_worker_lost=True)
def datasets_inspect(dataset_id: int) -> None:
    datasets.dataset_inspect(dataset_id=dataset_id)
