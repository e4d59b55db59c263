"""A consultant uploads current data on a version's monitoring page and reads the levels; the API
lists and starts the same checks. Reviewers read, never upload; outsiders see nothing."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from monitoring.models import MonitoringCheck
from segmentation import read_csv_bytes
from tests.monitoring.helpers import current_upload

pytestmark = pytest.mark.django_db


def test_a_consultant_monitors_a_version_from_its_page(finished_run, consultant, login):
    client = login(consultant)
    version = finished_run.version
    url = reverse("monitoring:version_monitoring", args=[version.pk])
    assert 'id="no-checks"' in client.get(url).content.decode()

    spread = pd.to_numeric(finished_run.dataset.read_table()["avg_basket"], errors="coerce").std()
    response = client.post(url, {"file": current_upload(finished_run, shift=spread)})
    assert response.status_code == 302, response.content.decode()[-1500:]
    check = MonitoringCheck.objects.get()
    assert check.overall_level == "drift" and check.created_by == consultant
    page = client.get(url).content.decode()
    assert 'id="overall-level"' in page and 'data-feature="avg_basket"' in page
    assert 'data-check="features"' in page and 'id="migration"' in page  # the same customers are in both
    features = {f["feature"]: f["level"] for f in check.result["features"]}
    assert features["avg_basket"] == "drift"

    download = client.get(reverse("monitoring:latest_check_file", args=[version.pk, "segment_shares.csv"]))
    shares = pd.read_csv(io.BytesIO(download.content))
    labels = read_csv_bytes(version.deliverables.get(kind="labels.csv").file.read())
    assert shares["reference_customers"].sum() == len(labels)
    assert AuditEvent.objects.filter(action="version.monitoring_download", actor=consultant).count() == 1
    drift = json.loads(
        client.get(reverse("monitoring:latest_check_file", args=[version.pk, "drift.json"])).content
    )
    assert drift == check.result


def test_a_table_without_the_versions_columns_is_refused_in_words_and_keeps_the_checks(
    finished_run, consultant, login
):
    client = login(consultant)
    version = finished_run.version
    url = reverse("monitoring:version_monitoring", args=[version.pk])
    narrow = finished_run.dataset.read_table().drop(columns=["avg_basket"])
    response = client.post(
        url, {"file": SimpleUploadedFile("narrow.csv", narrow.to_csv(index=False).encode())}
    )
    assert response.status_code == 400
    assert "column(s) not found in the data: avg_basket" in response.content.decode()
    assert not MonitoringCheck.objects.exists()


def test_a_reviewer_reads_checks_but_uploads_nothing(finished_run, consultant, reviewer, login):
    login(consultant).post(
        reverse("monitoring:version_monitoring", args=[finished_run.version.pk]),
        {"file": current_upload(finished_run)},
    )
    client = login(reviewer)
    url = reverse("monitoring:version_monitoring", args=[finished_run.version.pk])
    page = client.get(url).content.decode()
    assert 'id="latest"' in page and 'id="monitor-form"' not in page
    assert client.post(url, {"file": current_upload(finished_run)}).status_code == 403
    assert MonitoringCheck.objects.count() == 1


def test_the_api_starts_lists_and_reads_checks(finished_run, consultant, reviewer, api):
    version = finished_run.version
    started = api(consultant).post(
        "/api/v1/checks/", {"version": version.pk, "file": current_upload(finished_run)}, format="multipart"
    )
    assert started.status_code == 201, started.content
    body = started.json()
    assert body["overall_level"] in ("none", "warning")  # the same customers, barely changed
    assert body["result"]["migration"]["customers_in_both"] == len(finished_run.dataset.read_table())
    listed = api(reviewer).get(f"/api/v1/checks/?version={version.pk}").json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert api(reviewer).get(f"/api/v1/checks/{body['id']}/").json()["result"] == body["result"]
    refused = api(reviewer).post(
        "/api/v1/checks/", {"version": version.pk, "file": current_upload(finished_run)}, format="multipart"
    )
    assert refused.status_code == 403
