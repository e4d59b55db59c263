"""The REST API: token auth, the portal's permissions, pagination and one error format."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from projects.models import Dataset, SegmentationRun
from tests.projects.helpers import NUMERIC, rerun, upload_csv

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_a_caller_without_a_token_is_told_to_authenticate(project):
    response = APIClient().get("/api/v1/projects/")
    error = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials" in error["message"].lower()


def test_a_wrong_token_is_refused_in_the_same_format(project):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(client.get("/api/v1/projects/"), 401, "authentication_failed")


def test_it_lists_only_the_callers_projects_paginated(project, consultant, outsider, api):
    body = api(consultant).get("/api/v1/projects/").json()
    assert body["count"] == 1
    assert [p["name"] for p in body["results"]] == ["Loyalty 2026"]
    assert body["results"][0]["client"] == "Acme Retail"
    assert body["results"][0]["role"] == "consultant"
    assert [c["name"] for c in api(consultant).get("/api/v1/clients/").json()["results"]] == ["Acme Retail"]


def test_a_consultant_creates_a_project_and_a_duplicate_is_refused(consultant, api):
    client = api(consultant)
    created = client.post("/api/v1/projects/", {"client": "Beta Bank", "name": "Churn"}, format="json")
    assert created.status_code == 201
    assert created.json()["role"] == "admin"  # the creator administers the new project
    again = client.post("/api/v1/projects/", {"client": "Beta Bank", "name": "Churn"}, format="json")
    error = assert_error(again, 400, "invalid")
    assert "already has a project named 'Churn'" in error["message"]
    assert error["fields"] == {"name": [error["message"]]}


def test_a_missing_field_is_named_in_fields(consultant, api):
    error = assert_error(
        api(consultant).post("/api/v1/projects/", {"name": "x"}, format="json"), 400, "invalid"
    )
    assert list(error["fields"]) == ["client"]


def test_an_upload_through_the_api_is_stored_and_audited(project, consultant, api):
    raw, _ = upload_csv(80)
    response = api(consultant).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": _file("customers.csv", raw)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.get()
    assert response.json()["row_count"] == 80 == dataset.row_count
    assert response.json()["id_column"] == "customer_id"
    assert AuditEvent.objects.filter(action="dataset.upload", object_id=str(dataset.pk)).exists()


def test_a_bad_upload_is_refused_with_the_services_message(project, consultant, api):
    response = api(consultant).post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": _file("photo.png", b"\x89PNG")},
        format="multipart",
    )
    error = assert_error(response, 400, "invalid")
    assert "is not a CSV file" in error["message"]
    assert "file" in error["fields"]


def test_an_upload_into_another_project_is_refused_as_if_it_did_not_exist(project, outsider, api):
    raw, _ = upload_csv(30)
    response = api(outsider).post(
        "/api/v1/datasets/", {"project": project.pk, "file": _file("c.csv", raw)}, format="multipart"
    )
    error = assert_error(response, 400, "invalid")
    assert "does not exist" in error["fields"]["project"][0]
    assert not Dataset.objects.exists()


def test_a_run_is_started_reported_and_cancelled(project, consultant, api):
    from runs import services as run_services

    raw, _ = upload_csv(60)
    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="", user=consultant
    )
    client = api(consultant)
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    started = client.post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": spec}, format="json"
    )
    assert started.status_code == 201, started.content
    run = started.json()
    assert run["status"] == "queued" and run["version"] is None
    status = client.get(f"/api/v1/runs/{run['id']}/").json()
    assert {"status", "progress", "step", "error"} <= set(status)
    cancelled = client.post(f"/api/v1/runs/{run['id']}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/runs/{run['id']}/cancel/")
    assert "already finished" in assert_error(again, 400, "invalid")["message"]
    assert SegmentationRun.objects.get().status == "cancelled"


def test_a_bad_spec_is_refused_naming_the_key(project, consultant, api):
    from runs import services as run_services

    raw, _ = upload_csv(60)
    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="", user=consultant
    )
    spec = {"id_column": "customer_id", "numeric_columns": ["nope"], "k_min": 2, "k_max": 3}
    response = api(consultant).post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": spec}, format="json"
    )
    error = assert_error(response, 400, "invalid")
    assert "nope" in error["message"]
    assert not SegmentationRun.objects.exists()


def test_versions_and_deliverables_are_listed_and_downloaded_with_an_audit_event(
    finished_run, consultant, api
):
    client = api(consultant)
    version = finished_run.version
    versions = client.get(f"/api/v1/versions/?project={finished_run.project.pk}").json()["results"]
    assert [v["id"] for v in versions] == [version.pk]
    detail = client.get(f"/api/v1/versions/{version.pk}/").json()
    assert detail["version_hash"] == version.version_hash
    assert detail["segment_names"] == version.segment_names
    listed = client.get(f"/api/v1/deliverables/?version={version.pk}").json()["results"]
    labels = next(d for d in listed if d["kind"] == "labels.csv")
    download = client.get(labels["download_url"])
    assert download.status_code == 200
    assert download.content.startswith(b"customer_id,segment")
    assert "attachment" in download["Content-Disposition"]
    assert AuditEvent.objects.filter(action="deliverable.download", object_id=str(labels["id"])).exists()


def test_the_audit_trail_shows_only_the_callers_projects(finished_run, consultant, outsider, api):
    mine = api(consultant).get("/api/v1/audit-events/?page_size=500").json()["results"]
    assert mine and {e["project"] for e in mine} == {finished_run.project.pk}
    theirs = api(outsider).get("/api/v1/audit-events/?page_size=500").json()["results"]
    assert finished_run.project.pk not in {e["project"] for e in theirs}


def test_a_non_number_filter_is_a_clear_400(consultant, api):
    error = assert_error(api(consultant).get("/api/v1/runs/?project=abc"), 400, "invalid")
    assert "whole number" in error["fields"]["project"][0]


def test_an_unknown_page_is_a_404_in_the_same_format(consultant, api):
    assert_error(api(consultant).get("/api/v1/projects/?page=99"), 404, "not_found")


def _file(name, content):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_a_version_is_diffed_against_its_parent(finished_run, consultant, api):
    version = rerun(finished_run, consultant, k_min=2, k_max=2).version
    client = api(consultant)
    diff = client.get(f"/api/v1/versions/{version.pk}/diff/").json()
    assert diff["against"] == finished_run.version.pk and diff["same_data"] is True
    assert diff["spec"]["k_max"] == {"from": 4, "to": 2}
    assert "id_column" not in diff["spec"]
    assert diff["selected"]["to"]["k"] == 2
    assert -1 <= diff["agreement"] <= 1
    assert len(diff["segments"]) == max(len(version.profile), len(finished_run.version.profile))
    first = client.get(f"/api/v1/versions/{finished_run.version.pk}/diff/")
    assert "first version" in assert_error(first, 400, "invalid")["message"]


def test_the_form_and_the_api_refuse_too_many_segments_in_the_engines_words(project, consultant, login, api):
    from django.urls import reverse
    from django.utils.html import escape

    from runs import services as run_services
    from segmentation import SegmentationError, check_bounds

    dataset = run_services.dataset_upload(
        project=project,
        name="tiny.csv",
        content=b"customer_id,spend\n1,2\n2,5\n3,9\n4,1\n",
        id_column="customer_id",
        user=consultant,
    )
    with pytest.raises(SegmentationError) as engine:
        check_bounds(k_min=2, k_max=6, rows=4)
    message = str(engine.value)
    spec = {"id_column": "customer_id", "numeric_columns": ["spend"], "k_min": 2, "k_max": 6}
    response = api(consultant).post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": spec}, format="json"
    )
    assert assert_error(response, 400, "invalid")["fields"] == {"k_max": [message]}
    page = login(consultant).post(
        reverse("runs:run_new", args=[project.pk]), {"dataset": dataset.pk, **spec, "random_state": 0}
    )
    assert page.status_code == 200 and escape(message) in page.content.decode()
    assert not SegmentationRun.objects.exists()
