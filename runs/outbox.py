"""The outbox of runs: handing a started run to the broker, and sending those it did not take.

A run is committed with ``awaiting_dispatch`` set before it is sent, so a broker that is down
loses nothing: the run waits, queued, until ``runs_dispatch`` sends it.
"""

from __future__ import annotations

import logging

from kombu.exceptions import KombuError

from projects.models import SegmentationRun
from segplatform.celery import app as celery_app

logger = logging.getLogger(__name__)

RUN_TASK = "runs.run_segmentation"
DISPATCH_TASK = "runs.dispatch"


def enqueue(run_id: int) -> bool:
    """Hand a run to the broker; False, with the run left in the outbox, when it is unreachable.

    The run and its audit event are committed before this runs, so a broker that is down must
    not turn the request into a 500: the run stays queued and ``runs_dispatch`` sends it later.
    """
    try:
        # By name, so the workflow does not import the task module that imports it. No publish
        # retries: a dead broker fails in about a second (see the broker settings).
        result = celery_app.send_task(RUN_TASK, args=[run_id], retry=False)
    except (KombuError, OSError):
        logger.warning("run %s was not sent to the broker; it waits for runs_dispatch", run_id, exc_info=True)
        return False
    SegmentationRun.objects.filter(pk=run_id).update(celery_task_id=result.id or "", awaiting_dispatch=False)
    return True


def runs_dispatch() -> tuple[int, int]:
    """Send the queued runs the broker has not taken yet, oldest first: (sent, still waiting).

    Stops at the first failure, since the broker is still down. Two dispatchers at once (beat and
    a worker starting) may send a run twice; that is harmless, as only one worker claims it.
    """
    waiting = list(
        SegmentationRun.objects.filter(status=SegmentationRun.Status.QUEUED, awaiting_dispatch=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for run_id in waiting:
        if not enqueue(run_id):
            break
        sent += 1
    return sent, len(waiting) - sent
