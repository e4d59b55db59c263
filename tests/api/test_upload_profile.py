"""Uploading through the API: the table's profile comes back with the dataset, a log is known for
one, and a customer table whose ids repeat is refused at upload, not at run time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from projects.models import Dataset
from runs import datasets
from segmentation.synthetic.transactions import transaction_log
from tests.projects.helpers import upload_csv

pytestmark = pytest.mark.django_db


def post(api, user, project, name: str, raw: bytes):  # type: ignore[no-untyped-def]
    return api(user).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": SimpleUploadedFile(name, raw)},
        format="multipart",
    )


def stored_files() -> set[Path]:
    from django.conf import settings

    return {p for p in Path(settings.STORAGES["default"]["OPTIONS"]["location"]).rglob("*") if p.is_file()}


def repeated_ids() -> tuple[bytes, str]:
    _, frame = upload_csv(60, seed=9)
    doubled = pd.concat([frame, frame.iloc[[5, 5, 11]]], ignore_index=True)
    return doubled.to_csv(index=False).encode(), str(frame.loc[5, "customer_id"])


def test_a_customer_table_comes_back_with_its_profile(project, consultant, api):
    raw, _ = upload_csv(80, seed=3)

    response = post(api, consultant, project, "customers.csv", raw)

    assert response.status_code == 201, response.content
    profile = response.json()["profile"]
    assert (profile["kind"], profile["customers"], profile["sentence"]) == ("customers", 80, "80 customers")
    column = next(c for c in profile["columns"] if c["name"] == "region")
    assert set(column) >= {"name", "kind", "missing_share", "distinct", "examples", "role"}
    assert (column["kind"], column["role"]) == ("category", "categorical")


def test_a_transaction_log_is_recognised_as_events_from_its_customers(project, consultant, api):
    log, _ = transaction_log(40, seed=2)

    response = post(api, consultant, project, "purchases.csv", log.to_csv(index=False).encode())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["row_count"] == len(log)
    profile = body["profile"]
    assert profile["kind"] == "events"
    assert profile["sentence"] == f"{len(log):,} events from 40 customers"
    assert (profile["timestamp_column"], profile["amount_column"]) == ("timestamp", "amount")
    assert profile["reason"].startswith("customer_id repeats")


def test_repeated_customer_ids_are_refused_at_upload_and_nothing_is_kept(project, consultant, api):
    raw, example = repeated_ids()
    files = stored_files()

    response = post(api, consultant, project, "customers.csv", raw)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    message = error["message"] + " ".join(m for ms in error["fields"].values() for m in ms)
    assert "2 ids appear more than once in 'customer_id'" in message
    assert f"'{example}' 3 times" in message and "one row per customer" in message
    assert "Remove or merge the duplicate rows" in message
    assert not Dataset.objects.exists() and stored_files() == files
    assert not AuditEvent.objects.filter(action="dataset.upload").exists()


def test_the_worker_check_keeps_the_profile_or_rejects_repeated_ids(project, consultant, settings):
    settings.DATASET_INLINE_CHECK_BYTES = 1024  # both files go to the worker's check
    log, _ = transaction_log(30, seed=6)
    raw, example = repeated_ids()
    checked = [
        datasets.dataset_upload(project=project, name=name, content=content, id_column="", user=consultant)
        for name, content in (("log.csv", log.to_csv(index=False).encode()), ("doubled.csv", raw))
    ]
    assert [d.status for d in checked] == ["checking", "checking"]

    ready, rejected = (datasets.dataset_inspect(dataset_id=d.pk) for d in checked)

    assert ready.status == "ready" and ready.is_event_log
    assert ready.size_sentence == f"{len(log):,} events from 30 customers"
    assert rejected.status == "rejected" and not rejected.profile
    assert f"'{example}' 3 times" in rejected.error and not rejected.file
