"""Workers on several machines: CPU-bound and I/O-bound work on queues of their own, routed by
task, each consumed by its own worker process. While the CPU worker is down, runs wait in its
queue and the I/O worker goes on profiling uploads; once a CPU worker is back the run finishes."""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid

import pytest

from projects.models import Dataset, SegmentationRun
from runs import services as run_services
from tests.conftest import _database_url, need, start_worker
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SPEC = {
    "id_column": "customer_id",
    "numeric_columns": NUMERIC,
    "k_min": 2,
    "k_max": 4,
    "stability_resamples": 0,
}


def _stop(worker: subprocess.Popen | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _wait(condition, seconds: float = 120) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def _reroute(app) -> None:  # type: ignore[no-untyped-def]
    """Make the app's router read ``task_routes`` again: it keeps the routes it was built with."""
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


def _profiled(dataset_id: int) -> bool:
    return Dataset.objects.get(pk=dataset_id).status == Dataset.Status.READY


def test_cpu_and_io_work_run_on_their_own_queues_and_workers(project, consultant, settings, tmp_path):
    from django.conf import settings as live
    from django.db import connection

    from segplatform.celery import app

    if live.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        need(bool(live.REDIS_URL), "Redis (REDIS_URL)")
    tag = uuid.uuid4().hex[:8]
    cpu, io = f"segplatform-cpu-{tag}", f"segplatform-io-{tag}"
    routes = {
        **{name: {"queue": cpu} for name in live.CPU_TASKS},
        **{name: {"queue": io} for name in live.IO_TASKS},
    }
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "PYTHONUNBUFFERED": "1",
        "CELERY_CPU_QUEUE": cpu,
        "CELERY_IO_QUEUE": io,
    }
    saved = app.conf.task_routes
    app.conf.task_routes = routes  # this process (the web) sends as a configured deployment does
    _reroute(app)
    settings.DATASET_INLINE_CHECK_BYTES = 0  # every upload is profiled on a worker
    io_log, cpu_log = tmp_path / "io.log", tmp_path / "cpu.log"
    io_worker = start_worker(env=env, log=io_log, queue=io)
    cpu_worker = None
    try:
        # With no CPU worker: the run waits in its queue, uploads are still profiled.
        raw, _ = upload_csv(400, seed=3)
        first = run_services.dataset_upload(
            project=project, name="a.csv", content=raw, id_column="customer_id", user=consultant
        )
        assert _wait(lambda: _profiled(first.pk)), io_log.read_text()[-3000:]
        first.refresh_from_db()
        run = run_services.run_start(project=project, dataset=first, spec=SPEC, user=consultant)
        raw, _ = upload_csv(300, seed=4)
        second = run_services.dataset_upload(
            project=project, name="b.csv", content=raw, id_column="customer_id", user=consultant
        )
        assert _wait(lambda: _profiled(second.pk)), io_log.read_text()[-3000:]
        time.sleep(1.0)
        assert SegmentationRun.objects.get(pk=run.pk).status == "queued"

        # A CPU worker comes up (another machine): it takes the waiting run and finishes it.
        cpu_worker = start_worker(env=env, log=cpu_log, queue=cpu)
        assert _wait(lambda: SegmentationRun.objects.get(pk=run.pk).status == "succeeded"), (
            cpu_log.read_text()[-3000:]
        )
    finally:
        app.conf.task_routes = saved
        _reroute(app)
        _stop(io_worker)
        _stop(cpu_worker)
    # Each worker lists every task at start-up; what it received is logged "Task <name>[<id>] received".
    io_text, cpu_text = io_log.read_text(), cpu_log.read_text()

    def received(name: str, text: str) -> int:
        return len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] received", text))

    assert received("datasets.inspect", io_text) == 2 and received("runs.run_segmentation", io_text) == 0
    assert received("runs.run_segmentation", cpu_text) == 1 and received("datasets.inspect", cpu_text) == 0
