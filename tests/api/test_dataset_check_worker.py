"""A large upload is read on a real worker: the request only screens and stores it, the web
answers while the worker reads it, and the outcome (ready, or rejected with nothing kept) shows
in the portal and the API. Also on the single-machine set-up: SQLite and the filesystem broker."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from projects.models import Dataset
from runs import datasets
from tests.api.test_broker_down import DEAD_BROKER, broker  # noqa: F401  (the fixture)
from tests.conftest import PASSWORD, ROOT, need, start_worker
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BLOCKED_WRITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


@pytest.fixture(autouse=True)
def small_inline_limit(settings):  # type: ignore[no-untyped-def]
    settings.DATASET_INLINE_CHECK_BYTES = 1024  # a modest file goes to the worker


def media_files() -> set[Path]:
    from django.conf import settings

    return {p for p in Path(settings.STORAGES["default"]["OPTIONS"]["location"]).rglob("*") if p.is_file()}


def checked(api_client, dataset_id: int, seconds: float = 180) -> dict:  # type: ignore[no-untyped-def]
    """The dataset as the API shows it once the worker is done with it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = api_client.get(f"/api/v1/datasets/{dataset_id}/").json()
        if body["status"] != "checking":
            return body
        time.sleep(0.3)
    raise AssertionError(f"dataset {dataset_id} was still checking after {seconds} s")


def wait_for_the_worker_to_block(seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view stays as first read
            cursor.execute(BLOCKED_WRITERS)
            if cursor.fetchone()[0]:
                return
            time.sleep(0.2)
    raise AssertionError("the worker never reached its write")


def test_a_large_upload_is_read_on_the_worker_while_the_web_answers(
    celery_worker,
    project,
    consultant,
    client,
    api,
    broker,  # noqa: F811 (the fixture imported above)
):
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL), to hold the worker at its write")
    from segplatform.celery import app

    live_broker = app.conf.broker_url
    # Down first: the check waits in the outbox, so the test chooses when the worker gets it.
    broker(DEAD_BROKER)
    assert client.login(username=consultant.username, password=PASSWORD)
    raw, frame = upload_csv(3_000, seed=8)
    response = client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("customers.csv", raw, content_type="text/csv")},
    )
    project_page = reverse("runs:project", args=[project.pk])
    assert response.status_code == 302 and response["Location"] == project_page
    assert "Checking the file…" in client.get(project_page).content.decode()
    dataset = Dataset.objects.get(project=project)
    assert (dataset.status, dataset.awaiting_dispatch) == ("checking", True)

    broker(live_broker)
    with transaction.atomic():
        # The worker reads and parses the file, then waits here to write what it found.
        Dataset.objects.select_for_update().get(pk=dataset.pk)
        assert datasets.datasets_dispatch() == (1, 0)
        wait_for_the_worker_to_block()
        assert Client().get(reverse("login")).status_code == 200
        assert api(consultant).get(f"/api/v1/datasets/{dataset.pk}/").json()["status"] == "checking"
        assert "Checking the file…" in client.get(project_page).content.decode()

    body = checked(api(consultant), dataset.pk)
    assert (body["status"], body["error"], body["row_count"]) == ("ready", "", len(frame))
    page = client.get(project_page).content.decode()
    assert "Checking the file…" not in page
    row = re.search(r"<td>customers\.csv</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert row and (int(row[1]), int(row[2])) == frame.shape
    # Ready to segment (started in-process: a queued run would outlive the test's database).
    from runs.services import run_start

    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    dataset.refresh_from_db()
    assert run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False).pk


def test_the_api_shows_checking_then_ready(celery_worker, project, consultant, api):
    raw, frame = upload_csv(3_000, seed=9)
    response = api(consultant).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": SimpleUploadedFile("c.csv", raw)},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "checking"
    body = checked(api(consultant), response.json()["id"])
    assert (body["status"], body["row_count"], body["id_column"]) == ("ready", len(frame), "customer_id")


def test_a_file_without_its_id_column_is_rejected_on_the_worker_and_nothing_is_kept(
    celery_worker, project, consultant, api
):
    _, frame = upload_csv(3_000, seed=10)
    excel = io.BytesIO()
    frame.to_excel(excel, index=False)
    before = media_files()
    response = api(consultant).post(
        "/api/v1/datasets/",
        {
            "project": project.pk,
            "file": SimpleUploadedFile("c.xlsx", excel.getvalue()),
            "id_column": "client_no",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content

    body = checked(api(consultant), response.json()["id"])
    assert body["status"] == "rejected"
    assert "has no column named 'client_no'" in body["error"]
    assert media_files() == before
    spec = {"id_column": "client_no", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    refused = api(consultant).post(
        "/api/v1/runs/", {"project": project.pk, "dataset": body["id"], "spec": spec}, format="json"
    )
    assert refused.status_code == 400 and "was rejected" in refused.json()["error"]["message"]


UPLOAD = """
from projects.services import command_line_project
from runs.datasets import dataset_upload
from tests.projects.helpers import upload_csv
raw, frame = upload_csv(3_000, seed=12)
d = dataset_upload(project=command_line_project(None), name="c.csv", content=raw, id_column=None, user=None)
print(d.pk, d.status)
"""
STATUS = "from projects.models import Dataset as D; d = D.objects.get(pk={pk}); print(d.status, d.row_count, d.error)"


def test_a_large_upload_is_read_on_the_single_machine_worker(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DATASET_INLINE_CHECK_BYTES": "1024"}

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return (done.stdout.strip().splitlines() or [""])[-1]

    manage("migrate", "-v0")
    pk, status = manage("shell", "--no-imports", "-c", UPLOAD).split()
    assert status == "checking"
    worker = start_worker(env=env, log=tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 180
        while (shown := manage("shell", "--no-imports", "-c", STATUS.format(pk=pk))).startswith("checking"):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(1)
        rows = len(pd.read_csv(io.BytesIO(upload_csv(3_000, seed=12)[0])))  # the reference reader's count
        assert shown == f"ready {rows}", (shown, (tmp_path / "worker.log").read_text()[-3000:])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
