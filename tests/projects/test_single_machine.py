"""With nothing configured the platform runs on SQLite and a filesystem broker, still with a
real worker process — the set-up `make run` gives a new user."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, start_worker

pytestmark = pytest.mark.slow

ENQUEUE = """
from projects import services
from runs import services as run_services
from projects.models import Project
project = Project.objects.get(name="Customer segmentation demo")
dataset = project.datasets.get()
spec = {"id_column": "customer_id", "numeric_columns": ["recency_days", "avg_basket"], "k_min": 2, "k_max": 4}
from django.db import transaction
with transaction.atomic():
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=None)
print(run.pk)
"""

STATUS = (
    "from projects.models import SegmentationRun as R; r = R.objects.get(pk={pk}); print(r.status, r.error)"
)


def test_a_run_goes_through_a_worker_on_the_filesystem_broker_with_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["VAR_DIR"] = str(tmp_path / "var")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    manage("migrate", "-v0")
    assert "password" in manage("demo")
    worker = start_worker(env=env, log=tmp_path / "worker.log")
    try:
        run_id = manage("shell", "--no-imports", "-c", ENQUEUE).splitlines()[-1]
        deadline = time.monotonic() + 180
        status = ""
        while time.monotonic() < deadline:
            status = manage("shell", "--no-imports", "-c", STATUS.format(pk=run_id)).splitlines()[-1]
            if status.split()[0] in {"succeeded", "failed"}:
                break
            time.sleep(1)
        assert status.startswith("succeeded"), (status, (tmp_path / "worker.log").read_text()[-3000:])
        assert (tmp_path / "var" / "broker" / "queue").is_dir()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
