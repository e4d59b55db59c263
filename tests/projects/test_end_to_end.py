"""Log in, upload, run on a real Celery worker, download, and score in both databases."""

from __future__ import annotations

import io
import re
import time

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pptx import Presentation

from tests.conftest import PASSWORD, need
from tests.projects.helpers import (
    NUMERIC,
    labels_of,
    score_in_postgresql,
    score_in_sqlite,
    typed_customers,
    upload_csv,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(client, run_id: int, seconds: float = 180) -> dict:  # type: ignore[no-untyped-def]
    url = reverse("runs:run_status", args=[run_id])
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(url).json()
        seen.append(status["progress"])
        if status["finished"]:
            status["seen"] = seen
            return status
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} did not finish in {seconds} s; progress seen: {seen}")


def test_a_consultant_segments_an_upload_on_the_worker_and_the_scorers_match(
    celery_worker, project, consultant, client, settings
):
    from django.conf import settings as live

    if live.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        need(bool(live.REDIS_URL), "Redis (REDIS_URL)")

    # Log in through the real form.
    response = client.post(reverse("login"), {"username": consultant.username, "password": PASSWORD})
    assert response.status_code == 302

    # Upload, choosing the id column.
    raw, frame = upload_csv(1_500, seed=42)
    response = client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {
            "file": SimpleUploadedFile("customers.csv", raw, content_type="text/csv"),
            "id_column": "customer_id",
        },
    )
    assert response.status_code == 302
    run_form = client.get(response["Location"])
    assert run_form.status_code == 200
    dataset_id = int(re.search(r'name="dataset" value="(\d+)"', run_form.content.decode()).group(1))

    # Start the run: it is queued for the worker, not executed here.
    response = client.post(
        reverse("runs:run_new", args=[project.pk]),
        {"dataset": dataset_id, "numeric_columns": NUMERIC, "k_min": 2, "k_max": 6, "random_state": 0},
    )
    assert response.status_code == 302
    run_id = int(re.search(r"/runs/(\d+)/", response["Location"]).group(1))
    status = wait_for(client, run_id)
    assert status["status"] == "succeeded", status["error"]
    assert status["progress"] == 100

    # The run page lists the downloads.
    page = client.get(reverse("runs:run_detail", args=[run_id])).content.decode()
    links = dict(re.findall(r'href="(/deliverables/\d+/download/)">([\w.]+)</a>', page))
    by_name = {name: url for url, name in links.items()}
    assert {"deck.pptx", "scorer_postgresql.sql", "scorer_sqlite.sql", "labels.csv"} <= set(by_name)

    def download(name: str) -> bytes:
        response = client.get(by_name[name])
        assert response.status_code == 200
        return response.content

    labels = pd.read_csv(io.BytesIO(download("labels.csv")), dtype={"customer_id": str})
    expected = labels_of(labels)
    assert set(expected) == set(frame["customer_id"])

    deck = Presentation(io.BytesIO(download("deck.pptx")))
    assert len(deck.slides) >= 4

    customers = typed_customers(frame, NUMERIC)
    sqlite_sql = download("scorer_sqlite.sql").decode()
    assert labels_of(score_in_sqlite(sqlite_sql, customers)) == expected

    from django.db import connection

    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    postgres_sql = download("scorer_postgresql.sql").decode()
    assert labels_of(score_in_postgresql(postgres_sql, customers, NUMERIC)) == expected
