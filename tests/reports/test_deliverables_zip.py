"""Download all: one ZIP of a version's deliverables with MANIFEST.json, as far as the role may."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from governance.models import PrivacyReview
from segmentation import read_csv_bytes

pytestmark = pytest.mark.django_db


def _download(client, version) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    response = client.get(f"/governance/versions/{version.pk}/deliverables.zip")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith(f'{version.label}-deliverables.zip"')
    return zipfile.ZipFile(io.BytesIO(response.content))


@pytest.fixture
def version(finished_run):  # type: ignore[no-untyped-def]
    # region is the quasi-identifier the privacy review named: the record export is 5-anonymous on it
    PrivacyReview.objects.filter(dataset=finished_run.dataset).update(quasi_identifiers=["region"])
    return finished_run.version


def test_the_zip_holds_every_deliverable_and_the_record_export_with_matching_hashes(
    version, consultant, login
):
    archive = _download(login(consultant), version)
    manifest = json.loads(archive.read("MANIFEST.json"))
    stored = {d.kind: d.sha256 for d in version.deliverables.all()}

    names = set(archive.namelist()) - {"MANIFEST.json"}
    assert names == (set(stored) - {"manifest.json"}) | {"records.csv"}
    assert {"deck.pptx", "report.pdf", "scorer_postgresql.sql", "rules.txt", "labels.csv"} <= names
    for name in names:
        data = archive.read(name)
        assert manifest["files"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        if name in stored:
            assert stored[name] == hashlib.sha256(data).hexdigest()  # the file as delivered
    assert manifest["version_hash"] == version.version_hash and manifest["status"] == "draft"
    records = read_csv_bytes(archive.read("records.csv"))
    assert list(records.columns) == ["customer_id", "segment", "region"] and len(records) == 300

    event = AuditEvent.objects.filter(action="deliverable.download").latest("id")
    assert event.details["kind"] == "deliverables.zip" and "records.csv" in event.details["files"]
    assert AuditEvent.objects.filter(action="export.records").exists()


def test_a_reviewer_gets_the_files_but_not_the_record_export(version, reviewer, login):
    archive = _download(login(reviewer), version)
    manifest = json.loads(archive.read("MANIFEST.json"))
    assert "records.csv" not in archive.namelist() and "records.csv" not in manifest["files"]
    assert "deck.pptx" in archive.namelist()
    assert "a reviewer may not export customer records" in manifest["left_out"]["records.csv"]
    assert not AuditEvent.objects.filter(action="export.records").exists()


def test_it_refuses_download_from_another_project(version, outsider, login):
    response = login(outsider).get(f"/governance/versions/{version.pk}/deliverables.zip")
    assert response.status_code == 404


def test_the_version_and_results_pages_link_to_it(version, consultant, login):
    client = login(consultant)
    url = reverse("reports:version_deliverables_zip", args=[version.pk])
    assert url == f"/governance/versions/{version.pk}/deliverables.zip"
    for page in ("governance:version_detail", "runs:run_detail"):
        pk = version.pk if page.startswith("governance") else version.run.pk
        assert f'href="{url}"' in client.get(reverse(page, args=[pk])).content.decode()
