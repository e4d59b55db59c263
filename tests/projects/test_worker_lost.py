"""A run whose worker dies is requeued once, then failed by the reaper, with the reason and audit events."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from projects.models import SegmentationRun
from runs import liveness
from runs import services as run_services
from tests.conftest import _database_url, api_key, need, start_worker
from tests.projects.helpers import NUMERIC, upload_csv

SPEC = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 8}


def _dataset(project, consultant, rows: int):  # type: ignore[no-untyped-def]
    raw, _ = upload_csv(rows, seed=9)
    return run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="customer_id", user=consultant
    )


def _queued_run(project, consultant):  # type: ignore[no-untyped-def]
    dataset = _dataset(project, consultant, 60)
    return run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)


def _lose(run, seconds_ago: int = 200) -> None:  # type: ignore[no-untyped-def]
    """The state a worker killed mid-run leaves behind: running, beating no more."""
    SegmentationRun.objects.filter(pk=run.pk).update(
        status="running",
        progress=40,
        step="sweeping k",
        started_at=timezone.now() - timedelta(seconds=seconds_ago + 5),
        heartbeat_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.fixture
def own_queue():  # type: ignore[no-untyped-def]
    """Requeued runs go to a queue of the test's own, emptied afterwards, so no worker takes them."""
    from segplatform.celery import app

    saved = app.conf.task_default_queue
    app.conf.task_default_queue = queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    yield queue
    app.conf.task_default_queue = saved
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)


@pytest.mark.django_db
def test_the_reaper_fails_only_runs_whose_heartbeat_is_stale(project, consultant, settings):
    stale, fresh = _queued_run(project, consultant), _queued_run(project, consultant)
    _lose(stale)
    _lose(fresh, seconds_ago=5)
    settings.RUN_HEARTBEAT_TIMEOUT = 120
    settings.RUN_LOST_RETRIES = 0

    assert liveness.runs_reap() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.error) == ("failed", liveness.WORKER_LOST)
    assert stale.finished_at is not None
    assert fresh.status == "running"
    event = AuditEvent.objects.get(action="run.failed")
    assert event.actor_name == "reaper" and event.details["error"] == liveness.WORKER_LOST
    assert not AuditEvent.objects.filter(action="run.retried").exists()
    assert liveness.runs_reap() == 0  # nothing twice


@pytest.mark.django_db(transaction=True)
def test_a_lost_run_is_requeued_once_and_failed_the_second_time(project, consultant, settings, own_queue):
    run = _queued_run(project, consultant)
    _lose(run)
    settings.RUN_LOST_RETRIES = 1

    assert liveness.runs_reap() == 1
    run.refresh_from_db()
    # As if new: a worker starts it from the beginning, and the broker has it.
    assert (run.status, run.progress, run.step, run.error, run.attempts) == ("queued", 0, "", "", 2)
    assert (run.started_at, run.heartbeat_at, run.finished_at) == (None, None, None)
    assert run.celery_task_id and not run.awaiting_dispatch
    retried = AuditEvent.objects.get(action="run.retried")
    assert retried.actor_name == "reaper"
    assert (retried.details["reason"], retried.details["attempt"]) == (liveness.WORKER_LOST, 2)

    _lose(run)  # the second worker is lost too
    assert liveness.runs_reap() == 1
    run.refresh_from_db()
    assert (run.status, run.error, run.attempts) == ("failed", liveness.WORKER_LOST, 2)
    assert AuditEvent.objects.filter(action="run.retried").count() == 1
    assert AuditEvent.objects.get(action="run.failed").details["attempts"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_wakes_after_its_run_was_requeued_cannot_finish_it(
    project, consultant, settings, own_queue
):
    """A stalled worker (not dead) resumes after the reaper requeued its run: only the new attempt counts."""
    run = _queued_run(project, consultant)
    _lose(run)
    stalled = SegmentationRun.objects.get(pk=run.pk)  # what the first worker holds: attempt 1
    settings.RUN_LOST_RETRIES = 1
    assert liveness.runs_reap() == 1
    SegmentationRun.objects.filter(pk=run.pk).update(status="running")  # a second worker claims it

    assert run_services._finish(stalled, SegmentationRun.Status.SUCCEEDED, step="done") is False
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 2)
    assert not AuditEvent.objects.filter(action="run.succeeded").exists()


def _api_run(consultant, run_id: int) -> dict:  # type: ignore[no-untyped-def]
    """The run as GET /api/v1/runs/<id>/ shows it to the consultant."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(consultant)}")
    response = client.get(f"/api/v1/runs/{run_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def _kill_mid_run(run, worker: subprocess.Popen, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while run.status == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
        run.refresh_from_db()
    assert run.status == "running", (run.status, log.read_text()[-2000:])
    assert run.heartbeat_at is not None
    assert liveness.runs_reap() == 0  # a beating worker is left alone
    # The solo pool runs the task in the worker process itself: killing it kills the run.
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)


def _stop(worker: subprocess.Popen | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("retries", [1, 0])
def test_a_run_whose_worker_is_killed_mid_run_is_retried_or_failed_by_the_reaper(
    project, consultant, settings, tmp_path, retries
):
    from django.conf import settings as live
    from django.db import connection

    from segplatform.celery import app

    if live.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        need(bool(live.REDIS_URL), "Redis (REDIS_URL)")
    settings.RUN_LOST_RETRIES = retries
    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1"}
    saved_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    first = start_worker(env=env, log=tmp_path / "first.log", queue=queue)
    second = None
    try:
        run = run_services.run_start(
            project=project, dataset=_dataset(project, consultant, 3_000), spec=SPEC, user=consultant
        )
        _kill_mid_run(run, first, tmp_path / "first.log")
        assert _api_run(consultant, run.pk)["status"] == "running"  # nothing else would ever end it

        second = start_worker(env=env, log=tmp_path / "second.log", queue=queue)
        settings.RUN_HEARTBEAT_TIMEOUT = 1
        time.sleep(1.5)
        assert liveness.runs_reap() == 1
        settings.RUN_HEARTBEAT_TIMEOUT = 120  # the second worker beats every 30 s: leave it be

        shown = _api_run(consultant, run.pk)
        deadline = time.monotonic() + 120
        while shown["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.3)
            shown = _api_run(consultant, run.pk)
    finally:
        app.conf.task_default_queue = saved_queue
        _stop(first)
        _stop(second)

    trail = list(
        AuditEvent.objects.filter(object_type="segmentationrun", object_id=str(run.pk))
        .order_by("pk")
        .values_list("action", "actor_name")
    )
    assert trail[0][0] == "run.start"
    if retries:
        assert (shown["status"], shown["attempts"], shown["error"]) == ("succeeded", 2, ""), shown
        assert shown["progress"] == 100 and shown["version"] is not None
        assert project.versions.get().number == 1  # the lost attempt left no version behind
        assert trail[1:] == [("run.retried", "reaper"), ("run.succeeded", "worker")]
        assert AuditEvent.objects.get(action="run.retried").details["reason"] == liveness.WORKER_LOST
    else:
        assert (shown["status"], shown["attempts"], shown["version"]) == ("failed", 1, None)
        assert shown["error"] == "the worker stopped while running this job"
        assert trail[1:] == [("run.failed", "reaper")]


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_during_a_long_step_without_progress(project, consultant, settings):
    run = _queued_run(project, consultant)
    old = timezone.now() - timedelta(seconds=200)
    SegmentationRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=old)
    settings.RUN_HEARTBEAT_TIMEOUT = 4  # a beat every second

    with liveness.heartbeat(run.pk):
        time.sleep(1.5)  # a step that reports no progress
        run.refresh_from_db()
        assert run.heartbeat_at > old
        assert liveness.runs_reap() == 0
