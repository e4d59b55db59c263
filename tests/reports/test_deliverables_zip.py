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

    # the version and results pages link to it
    url = reverse("reports:version_deliverables_zip", args=[version.pk])
    assert url == f"/governance/versions/{version.pk}/deliverables.zip"
    for page, pk in (("governance:version_detail", version.pk), ("runs:run_detail", version.run.pk)):
        assert f'href="{url}"' in login(consultant).get(reverse(page, args=[pk])).content.decode()

    event = AuditEvent.objects.filter(action="deliverable.download", details__kind="deliverables.zip").get()
    assert event.details["kind"] == "deliverables.zip" and "records.csv" in event.details["files"]
    assert AuditEvent.objects.filter(action="export.records").exists()


def test_a_reviewer_gets_the_files_but_not_the_record_export(version, reviewer, outsider, login):
    archive = _download(login(reviewer), version)
    manifest = json.loads(archive.read("MANIFEST.json"))
    assert "records.csv" not in archive.namelist() and "records.csv" not in manifest["files"]
    assert "deck.pptx" in archive.namelist()
    assert "a reviewer may not export customer records" in manifest["left_out"]["records.csv"]
    assert not AuditEvent.objects.filter(action="export.records").exists()

    # and someone from another project gets nothing, not even that the version exists
    response = login(outsider).get(f"/governance/versions/{version.pk}/deliverables.zip")
    assert response.status_code == 404
