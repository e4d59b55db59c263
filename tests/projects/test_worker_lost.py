"""A run whose worker dies is failed by the reaper, with the reason and an audit event."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from projects.models import SegmentationRun
from runs import liveness
from runs import services as run_services
from tests.conftest import _database_url, need, start_worker
from tests.projects.helpers import NUMERIC, upload_csv

SPEC = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 8}


def _dataset(project, consultant, rows: int):  # type: ignore[no-untyped-def]
    raw, _ = upload_csv(rows, seed=9)
    return run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="customer_id", user=consultant
    )


@pytest.mark.django_db
def test_the_reaper_fails_only_runs_whose_heartbeat_is_stale(project, consultant, settings):
    dataset = _dataset(project, consultant, 60)
    stale, fresh = (
        run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
        for _ in range(2)
    )
    now = timezone.now()
    SegmentationRun.objects.filter(pk=stale.pk).update(
        status="running", heartbeat_at=now - timedelta(seconds=200)
    )
    SegmentationRun.objects.filter(pk=fresh.pk).update(
        status="running", heartbeat_at=now - timedelta(seconds=5)
    )
    settings.RUN_HEARTBEAT_TIMEOUT = 120

    assert liveness.runs_reap() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.error) == ("failed", liveness.WORKER_LOST)
    assert stale.finished_at is not None
    assert fresh.status == "running"
    event = AuditEvent.objects.get(action="run.failed")
    assert event.actor_name == "reaper" and event.details["error"] == liveness.WORKER_LOST
    assert liveness.runs_reap() == 0  # nothing twice


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_is_killed_mid_run_is_failed_by_the_reaper(
    project, consultant, settings, tmp_path
):
    from django.conf import settings as live
    from django.db import connection

    from segplatform.celery import app

    if live.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        need(bool(live.REDIS_URL), "Redis (REDIS_URL)")
    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1"}
    worker = start_worker(env=env, log=tmp_path / "worker.log", queue=queue)
    saved_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        run = run_services.run_start(
            project=project, dataset=_dataset(project, consultant, 3_000), spec=SPEC, user=consultant
        )
        deadline = time.monotonic() + 60
        while run.status == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
            run.refresh_from_db()
        assert run.status == "running", (run.status, (tmp_path / "worker.log").read_text()[-2000:])
        assert run.heartbeat_at is not None
        assert liveness.runs_reap() == 0  # a beating worker is left alone
        # The solo pool runs the task in the worker process itself: killing it kills the run.
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        app.conf.task_default_queue = saved_queue
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    run.refresh_from_db()
    assert run.status == "running"  # nothing else would ever end it
    settings.RUN_HEARTBEAT_TIMEOUT = 1
    time.sleep(1.5)
    assert liveness.runs_reap() == 1
    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "the worker stopped while running this job")
    assert AuditEvent.objects.filter(action="run.failed", actor_name="reaper").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_during_a_long_step_without_progress(project, consultant, settings):
    dataset = _dataset(project, consultant, 60)
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    old = timezone.now() - timedelta(seconds=200)
    SegmentationRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=old)
    settings.RUN_HEARTBEAT_TIMEOUT = 4  # a beat every second

    with liveness.heartbeat(run.pk):
        time.sleep(1.5)  # a step that reports no progress
        run.refresh_from_db()
        assert run.heartbeat_at > old
        assert liveness.runs_reap() == 0
