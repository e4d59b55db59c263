"""A large upload is screened in the request, stored as checking and read later; until it is
ready nothing may segment it. The worker's service runs in-process here (the broker is never
reached: these tests' transactions never commit); tests/api/test_dataset_check_worker.py
runs it on a real worker."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Dataset
from runs import datasets
from tests.api.test_hostile_uploads import refused, upload
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = pytest.mark.django_db

SPEC = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}


@pytest.fixture(autouse=True)
def small_inline_limit(settings):  # type: ignore[no-untyped-def]
    settings.DATASET_INLINE_CHECK_BYTES = 1024  # a modest file goes to the worker


def media_files() -> set[Path]:
    from django.conf import settings

    return {p for p in Path(settings.STORAGES["default"]["OPTIONS"]["location"]).rglob("*") if p.is_file()}


def excel_bytes(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_excel(out, index=False)
    return out.getvalue()


def start_run(api, user, project, dataset_id: int):  # type: ignore[no-untyped-def]
    return api(user).post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset_id, "spec": SPEC}, format="json"
    )


def test_a_large_upload_is_accepted_as_checking_then_ready_with_the_rows_pandas_reads(
    project, consultant, api
):
    raw, frame = upload_csv(300)
    response = upload(api, consultant, project, "customers.csv", raw)

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["error"], body["row_count"], body["schema"]) == ("checking", "", 0, [])
    refused(start_run(api, consultant, project, body["id"]), "still being checked", "ready")

    datasets.dataset_inspect(dataset_id=body["id"])  # what the worker does

    shown = api(consultant).get(f"/api/v1/datasets/{body['id']}/").json()
    assert (shown["status"], shown["error"], shown["row_count"]) == ("ready", "", len(frame))
    assert [c["name"] for c in shown["schema"]] == list(frame.columns)
    assert shown["id_column"] == "customer_id"  # detected on the worker
    assert start_run(api, consultant, project, body["id"]).status_code == 201


def test_a_small_upload_is_still_ready_on_arrival(project, consultant, api, settings):
    settings.DATASET_INLINE_CHECK_BYTES = 2 * 1024 * 1024
    response = upload(api, consultant, project, "customers.csv", upload_csv(300)[0])
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["row_count"]) == ("ready", 300)


def test_a_file_failing_the_check_on_the_worker_is_rejected_with_its_reason_and_no_file_kept(
    project, consultant, api, django_capture_on_commit_callbacks
):
    # An Excel header is not read in the request: the missing id column is found on the worker.
    _, frame = upload_csv(300)
    before = media_files()
    response = api(consultant).post(
        "/api/v1/datasets/",
        {
            "project": project.pk,
            "file": SimpleUploadedFile("customers.xlsx", excel_bytes(frame)),
            "id_column": "client_no",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    dataset_id = response.json()["id"]
    assert media_files() != before  # stored, encrypted, while it is checked

    with django_capture_on_commit_callbacks(execute=True):
        datasets.dataset_inspect(dataset_id=dataset_id)

    shown = api(consultant).get(f"/api/v1/datasets/{dataset_id}/").json()
    assert shown["status"] == "rejected"
    assert "has no column named 'client_no'" in shown["error"] and "customer_id" in shown["error"]
    assert media_files() == before
    assert not Dataset.objects.get(pk=dataset_id).file
    refused(
        start_run(api, consultant, project, dataset_id),
        "was rejected",
        "client_no",
        "Upload a corrected file",
    )


def test_a_large_csv_without_the_named_id_column_is_refused_in_the_request(project, consultant, api):
    raw, _ = upload_csv(300)
    response = api(consultant).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": SimpleUploadedFile("c.csv", raw), "id_column": "client_no"},
        format="multipart",
    )
    refused(response, "has no column named 'client_no'", "customer_id")
    assert not Dataset.objects.filter(project=project).exists()


def test_a_large_parquet_file_past_the_row_limit_is_refused_from_its_footer(
    project, consultant, api, settings
):
    settings.MAX_UPLOAD_ROWS = 100
    _, frame = upload_csv(300)
    raw = frame.to_parquet(index=False)
    refused(upload(api, consultant, project, "c.parquet", raw), "more than 100 rows")
    assert not Dataset.objects.filter(project=project).exists()


def test_the_portal_shows_the_check_and_its_outcome_and_refuses_to_run_before(project, consultant, login):
    client = login(consultant)
    raw, frame = upload_csv(300)
    response = client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("customers.csv", raw, content_type="text/csv")},
    )
    project_page = reverse("runs:project", args=[project.pk])
    assert response.status_code == 302 and response["Location"] == project_page
    page = client.get(project_page).content.decode()
    assert "Checking the file…" in page and "a worker is reading it now" in page
    assert "js/datasets.js" in page  # looks again until the check is over
    dataset = Dataset.objects.get(project=project)

    refusal = client.get(f"{reverse('runs:run_new', args=[project.pk])}?dataset={dataset.pk}", follow=True)
    assert "is still being checked" in refusal.content.decode()
    posted = client.post(
        reverse("runs:run_new", args=[project.pk]),
        {"dataset": dataset.pk, "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3, "random_state": 0},
        follow=True,
    )
    assert "is still being checked" in posted.content.decode()
    assert not dataset.runs.exists()

    datasets.dataset_inspect(dataset_id=dataset.pk)
    page = client.get(project_page).content.decode()
    assert "Checking the file…" not in page and "js/datasets.js" not in page
    row = re.search(r"<td>customers\.csv</td><td>(\d+)</td><td>(\d+)</td>", page)
    assert row and (int(row[1]), int(row[2])) == frame.shape


def test_the_portal_shows_a_rejection_in_words_the_user_can_act_on(project, consultant, login):
    client = login(consultant)
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"] * 200, "segment": ["x", "y", "z"] * 200})
    client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("words.xlsx", excel_bytes(frame))},
    )
    dataset = Dataset.objects.get(project=project)
    datasets.dataset_inspect(dataset_id=dataset.pk)
    page = client.get(reverse("runs:project", args=[project.pk])).content.decode()
    assert "Rejected" in page
    assert "has no numeric columns besides the id column" in page and "Upload again" in page
