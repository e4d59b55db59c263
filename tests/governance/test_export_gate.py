"""Record-level exports (labels joined with quasi-identifiers) are refused below the project's k."""

from __future__ import annotations

from django.urls import reverse

from audit.models import AuditEvent
from segmentation import read_csv_bytes


def export(client, version, quasi, **extra):  # type: ignore[no-untyped-def]
    url = reverse("reports:version_records_export", args=[version.pk])
    return client.post(url, {"quasi_identifiers": quasi, **extra}, follow=True)


def test_an_export_that_is_k_anonymous_is_allowed(finished_run, consultant, login):
    response = export(login(consultant), finished_run.version, "region")
    assert response["Content-Type"] == "text/csv"
    table = read_csv_bytes(response.content)
    assert list(table.columns) == ["customer_id", "segment", "region"]
    assert len(table) == 300
    assert AuditEvent.objects.filter(action="export.records").exists()


def test_an_export_below_the_projects_k_is_refused_with_the_reason(finished_run, consultant, login):
    response = export(login(consultant), finished_run.version, "region,tenure_months")
    page = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "below this project&#x27;s k of 5" in page
    assert AuditEvent.objects.filter(action="export.refused").exists()


def test_a_reviewer_cannot_export_records(finished_run, reviewer, login):
    response = login(reviewer).post(
        reverse("reports:version_records_export", args=[finished_run.version.pk]),
        {"quasi_identifiers": "region"},
    )
    assert response.status_code == 403


def test_generalising_on_request_makes_the_export_k_anonymous(finished_run, consultant, login):
    from pycanon import anonymity

    response = export(login(consultant), finished_run.version, "region,tenure_months", generalise="1")

    assert response["Content-Type"] == "text/csv"
    table = read_csv_bytes(response.content)
    assert anonymity.k_anonymity(table, ["region", "tenure_months"]) >= 5
    assert len(table) >= 0.95 * 300
    event = AuditEvent.objects.get(action="export.records")
    assert set(event.details["levels"]) == {"region", "tenure_months"}
    assert event.details["suppressed_rows"] == 300 - len(table)
