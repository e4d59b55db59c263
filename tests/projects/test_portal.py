"""The portal's journey and its answers to bad input."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from projects.models import Dataset, SegmentationRun
from tests.conftest import PASSWORD
from tests.projects.helpers import upload_csv

pytestmark = pytest.mark.django_db


def upload(client, project, name, content, id_column=""):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "id_column": id_column},
    )


def test_a_consultant_creates_a_project_and_becomes_its_member(consultant, login):
    client = login(consultant)
    response = client.post(
        reverse("projects:project_new"), {"client": "Beta Bank", "name": "Churn", "description": ""}
    )
    assert response.status_code == 302
    assert consultant.projects.filter(name="Churn", client__name="Beta Bank").exists()


def test_an_upload_is_stored_encrypted_and_leads_to_the_run_form(project, consultant, login, settings):
    raw, _ = upload_csv(120)
    response = upload(login(consultant), project, "customers.csv", raw)
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"?dataset={dataset.pk}")
    assert dataset.id_column == "customer_id"  # detected
    assert dataset.row_count == 120
    stored = (settings.VAR_DIR / "media" / dataset.file.name).read_bytes()
    assert b"customer_id" not in stored and b"C100000" not in stored
    assert dataset.file.open("rb").read() == raw


@pytest.mark.parametrize(
    ("name", "content", "id_column", "message"),
    [
        ("photo.png", b"\x89PNG\r\n", "", "is not a CSV file"),
        ("customers.csv", b"", "", "The submitted file is empty."),
        ("customers.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "", "not a CSV file"),
        ("customers.csv", b"customer_id,spend\n1,2\n", "account", "has no column named"),
        ("customers.csv", b"customer_id,name\n1,Ann\n2,Bob\n", "", "has no numeric columns"),
    ],
)
def test_a_bad_upload_is_refused_on_the_page_with_a_clear_message(
    project, consultant, login, name, content, id_column, message
):
    response = upload(login(consultant), project, name, content, id_column)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Dataset.objects.exists()


def test_a_run_asking_for_more_segments_than_rows_is_refused_on_the_form(project, consultant, login):
    client = login(consultant)
    upload(client, project, "tiny.csv", b"customer_id,spend\n1,2\n2,5\n3,9\n4,1\n")
    dataset = Dataset.objects.get()
    response = client.post(
        reverse("runs:run_new", args=[project.pk]),
        {"dataset": dataset.pk, "numeric_columns": ["spend"], "k_min": 2, "k_max": 6, "random_state": 0},
    )
    assert response.status_code == 200
    assert "The dataset has 4 rows: at most 3 segments." in response.content.decode()
    assert not SegmentationRun.objects.exists()


def test_a_failed_run_shows_its_reason_on_the_run_page(project, consultant, login):
    from runs import services as run_services

    client = login(consultant)
    upload(client, project, "flat.csv", b"customer_id,spend,visits\n1,2,1\n2,2,1\n3,2,1\n4,2,1\n5,2,2\n")
    dataset = Dataset.objects.get()
    spec = {"id_column": "customer_id", "numeric_columns": ["spend"], "k_min": 2, "k_max": 3}
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "failed"
    page = client.get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert "same value for every customer" in page


def test_logins_failed_logins_uploads_and_downloads_are_audited(finished_run, consultant, client):
    assert not client.login(username=consultant.username, password="wrong")
    client.post(reverse("login"), {"username": consultant.username, "password": PASSWORD})
    deliverable = finished_run.version.deliverables.get(kind="deck.pptx")
    assert client.get(reverse("runs:deliverable_download", args=[deliverable.pk])).status_code == 200
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    for action in (
        "dataset.upload",
        "run.start",
        "run.succeeded",
        "auth.login_failed",
        "auth.login",
        "deliverable.download",
    ):
        assert action in actions
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.actor_name == consultant.username and "wrong" not in str(failed.details)


def test_a_deliverable_downloads_as_an_attachment_named_after_its_version(finished_run, consultant, login):
    deliverable = finished_run.version.deliverables.get(kind="scorer_sqlite.sql")
    response = login(consultant).get(reverse("runs:deliverable_download", args=[deliverable.pk]))
    assert "attachment" in response["Content-Disposition"]
    assert "v1-scorer_sqlite.sql" in response["Content-Disposition"]
    assert b"SELECT" in response.content.upper()


def test_a_cancelled_run_is_not_executed(project, consultant, login):
    from runs import services as run_services

    raw, _ = upload_csv(100)
    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="", user=consultant
    )
    spec = {"id_column": "customer_id", "numeric_columns": ["avg_basket"], "k_min": 2, "k_max": 3}
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    login(consultant).post(reverse("runs:run_cancel", args=[run.pk]))
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "cancelled"
    assert not hasattr(run, "version") or run.version is None


def test_the_run_form_puts_chosen_algorithms_in_the_spec_and_leaves_the_default_implicit(
    project, consultant, login
):
    client = login(consultant)
    upload(client, project, "small.csv", b"customer_id,spend\n1,2\n2,5\n3,9\n4,1\n5,3\n6,8\n")
    dataset = Dataset.objects.get()
    form = {"dataset": dataset.pk, "numeric_columns": ["spend"], "k_min": 2, "k_max": 3, "random_state": 0}
    url = reverse("runs:run_new", args=[project.pk])
    assert 'value="agglomerative"' in client.get(url + f"?dataset={dataset.pk}").content.decode()
    client.post(url, {**form, "algorithms": ["agglomerative", "kmeans"]})
    client.post(url, {**form, "algorithms": ["kmeans", "gmm", "hdbscan"]})
    first, default = SegmentationRun.objects.order_by("id")
    assert first.spec["algorithms"] == ["kmeans", "agglomerative"]
    assert "algorithms" not in default.spec
