"""Erasure of one customer, the retention purge, and the reviewers' audit-trail exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import AuditEvent
from governance.erasure import retention_purge
from projects.models import Dataset
from reports.records import record_export
from segmentation import read_csv_bytes
from segplatform.errors import ApplicationError


def labels_of(version):  # type: ignore[no-untyped-def]
    return read_csv_bytes(version.deliverables.get(kind="labels.csv").file.open("rb").read())


def test_erasing_a_customer_removes_them_everywhere_and_leaves_one_event(
    finished_run, consultant, login, django_capture_on_commit_callbacks
):
    version = finished_run.version
    target = labels_of(version)["customer_id"].iloc[7]
    client = login(consultant)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("governance:project", args=[finished_run.project.pk]), {"original_id": target}
        )

    assert response.status_code == 302
    dataset = Dataset.objects.get(pk=finished_run.dataset.pk)
    table = read_csv_bytes(dataset.file.open("rb").read())
    assert target not in set(table["customer_id"]) and dataset.row_count == 299
    labels = labels_of(version)
    assert target not in set(labels["customer_id"]) and len(labels) == 299
    event = AuditEvent.objects.get(action="customer.erase")
    assert event.details == {"datasets": 1, "rows": 1, "label_files": 1}
    assert target not in str(list(AuditEvent.objects.values_list("details", flat=True)))
    call_command("verify_audit_log", stdout=io.StringIO())  # the chain still holds


def test_erasing_an_unknown_customer_says_so(finished_run, consultant):
    from governance.erasure import customer_erase

    with pytest.raises(ApplicationError, match="no customer with that id"):
        customer_erase(project=finished_run.project, original_id="nobody", user=consultant)


def test_a_reviewer_cannot_erase(finished_run, reviewer, login):
    response = login(reviewer).post(
        reverse("governance:project", args=[finished_run.project.pk]), {"original_id": "x"}
    )
    assert response.status_code == 403


def test_retention_purges_expired_datasets_and_runs_are_then_refused(finished_run, consultant):
    from runs import services as run_services

    dataset = finished_run.dataset
    assert retention_purge()["datasets"] == 0
    totals = retention_purge(now=timezone.now() + timedelta(days=400))
    assert totals["datasets"] == 1 and totals["label_files"] == 1
    dataset.refresh_from_db()
    assert not dataset.file
    assert AuditEvent.objects.filter(action="retention.purge").exists()
    with pytest.raises(ApplicationError, match="retention"):
        run_services.run_start(
            project=dataset.project, dataset=dataset, spec=finished_run.spec, user=consultant, enqueue=False
        )
    with pytest.raises(ApplicationError, match="retention"):
        record_export(version=finished_run.version, user=consultant, quasi_identifiers=["region"])


def test_purge_expired_command_runs(db):
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert "purged 0 dataset(s)" in out.getvalue()


def test_a_reviewer_downloads_the_audit_trail_as_csv_and_pdf(finished_run, reviewer, login):
    client = login(reviewer)
    project = finished_run.project
    response = client.get(reverse("governance:audit_trail", args=[project.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {"project.create", "dataset.upload", "run.start", "version.create"} <= {r["action"] for r in rows}
    assert all(len(r["hash"]) == 64 for r in rows)

    response = client.get(reverse("governance:audit_trail", args=[project.pk, "pdf"]))
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Audit trail" in text and "intact" in text and "dataset.upload" in text
    assert AuditEvent.objects.filter(action="audit.export").count() == 2


def test_a_consultant_cannot_export_the_audit_trail_and_an_outsider_gets_404(
    finished_run, consultant, outsider, login
):
    url = reverse("governance:audit_trail", args=[finished_run.project.pk, "csv"])
    assert login(consultant).get(url).status_code == 403
    assert login(outsider).get(url).status_code == 404


def test_a_pseudonymised_customer_is_erased_by_their_original_email(
    project, consultant, django_capture_on_commit_callbacks
):
    from governance.erasure import customer_erase
    from governance.pii_review import default_decisions, privacy_review_confirm
    from runs import services as run_services
    from tests.governance.helpers import as_csv, pii_table
    from tests.projects.helpers import NUMERIC

    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=as_csv(pii_table(60)), id_column="email", user=consultant
    )
    review = dataset.privacy_review
    with django_capture_on_commit_callbacks(execute=True):
        privacy_review_confirm(
            review=review,
            decisions=default_decisions(review),
            quasi_identifiers=[],
            sensitive=[],
            user=consultant,
        )
    dataset.refresh_from_db()
    spec = {"id_column": "email", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 2}
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    version = run_services.run_execute(run_id=run.pk).version

    with django_capture_on_commit_callbacks(execute=True):
        counts = customer_erase(project=project, original_id="Customer5@Example.com ", user=consultant)

    assert counts == {"datasets": 1, "rows": 1, "label_files": 1}
    assert len(labels_of(version)) == 59


def test_the_governance_page_offers_each_role_its_actions(
    finished_run, consultant, reviewer, outsider, login
):
    url = reverse("governance:project", args=[finished_run.project.pk])
    page = login(consultant).get(url).content.decode()
    assert "Erase a customer" in page and "Download PDF" not in page
    assert "Target k for record-level exports: <strong>5</strong>" in page
    page = login(reviewer).get(url).content.decode()
    assert "Download PDF" in page and "Erase a customer" not in page
    assert login(outsider).get(url).status_code == 404
    detail = login(consultant).get(reverse("runs:project", args=[finished_run.project.pk])).content.decode()
    assert url in detail and reverse("governance:version_detail", args=[finished_run.version.pk]) in detail
