"""Approval through the API produces the approved edition; the approved pack downloads from the
portal as one ZIP whose MANIFEST.json hashes every file, and the drafts stay as they were."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from pptx import Presentation
from pypdf import PdfReader

from audit.models import AuditEvent
from governance.models import VersionStatusChange
from reports.models import Deliverable
from reports.plain import DRAFT_EDITION
from reports.services import SCORER_DIALECTS
from tests.reports.helpers import slide_text

pytestmark = pytest.mark.django_db


def _step(client, version, action, reason=""):  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/versions/{version.pk}/{action}/", {"reason": reason}, format="json")
    assert response.status_code == 200, response.content
    return response


def _footers(data: bytes) -> list[str]:
    deck = Presentation(io.BytesIO(data))
    return [slide_text(slide) for slide in deck.slides]


def _pdf_pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def _files(version) -> dict[str, str]:  # type: ignore[no-untyped-def]
    found = {}
    for d in Deliverable.objects.filter(version=version):
        with d.file.open("rb") as handle:
            found[d.kind] = hashlib.sha256(handle.read()).hexdigest()
    return found


def test_approval_builds_the_approved_edition_and_the_pack_holds_it_with_a_manifest(
    finished_run, consultant, reviewer, api, login, django_capture_on_commit_callbacks
):
    # given a draft version whose files say draft
    version = finished_run.version
    drafts = _files(version)
    assert "deck-approved.pptx" not in drafts

    # when the consultant submits it and a reviewer approves it through the API
    _step(api(consultant), version, "submit")
    with django_capture_on_commit_callbacks(execute=True):
        _step(api(reviewer), version, "approve", "Stable and fair.")

    # then the approved edition exists beside the untouched drafts
    after = _files(version)
    assert {k: v for k, v in after.items() if k in drafts} == drafts
    assert {"deck-approved.pptx", "report-approved.pdf"} <= set(after)
    change = VersionStatusChange.objects.get(version=version, status="approved")
    when = f"{change.created_at.day} {change.created_at:%B %Y}"
    approved = f"Approved by rita on {when} - version {version.version_hash[:12]}"

    # and the pack downloads from the portal as one ZIP
    client = login(consultant)
    response = client.get(f"/governance/versions/{version.pk}/approved.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "approved.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"deck-approved.pptx", "report-approved.pdf", "labels.csv", "profile.csv", "metrics.json"} <= names
    assert {f"scorer_{d}.sql" for d in SCORER_DIALECTS} <= names
    assert not names & {"deck.pptx", "report.pdf", "manifest.json"}

    # whose manifest hashes every file and names the version, approver and date
    manifest = json.loads(archive.read("MANIFEST.json"))
    assert set(manifest["files"]) == names - {"MANIFEST.json"}
    for name, entry in manifest["files"].items():
        data = archive.read(name)
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    assert manifest["version_hash"] == version.version_hash
    assert manifest["approved_by"] == "rita"
    assert manifest["approved_at"] == change.created_at.isoformat()

    # and whose deck and report say approved, by whom, on every slide and page
    slides = _footers(archive.read("deck-approved.pptx"))
    assert slides and all(approved in text for text in slides)
    pages = _pdf_pages(archive.read("report-approved.pdf"))
    assert pages and all(approved in page for page in pages)
    assert not any(DRAFT_EDITION in page for page in pages)

    # while the draft deck and report still say draft
    draft = Deliverable.objects.get(version=version, kind="deck.pptx")
    with draft.file.open("rb") as handle:
        assert all(DRAFT_EDITION in text for text in _footers(handle.read()))

    # and the build and the download are both in the audit trail
    assert AuditEvent.objects.filter(
        action="deliverable.approved_edition", object_id=str(version.pk)
    ).exists()
    download = AuditEvent.objects.filter(action="deliverable.download", object_id=str(version.pk)).get()
    assert download.actor == consultant and download.details["kind"] == "approved.zip"

    # and the version page and the run's results page link the pack beside the other files
    pack = f"/governance/versions/{version.pk}/approved.zip"
    assert pack in client.get(f"/governance/versions/{version.pk}/").content.decode()
    results = client.get(f"/runs/{finished_run.pk}/").content.decode()
    assert pack in results and "report-approved.pdf" in results and "report.pdf" in results


def test_the_pack_of_a_version_not_yet_approved_is_refused_with_a_message(finished_run, consultant, login):
    version = finished_run.version
    response = login(consultant).get(f"/governance/versions/{version.pk}/approved.zip", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "is draft, not approved" in text and "ask a reviewer to approve" in text
    assert not Deliverable.objects.filter(version=version, kind="report-approved.pdf").exists()
    assert (
        f"/governance/versions/{version.pk}/approved.zip"
        not in login(consultant).get(f"/runs/{finished_run.pk}/").content.decode()
    )
    assert not AuditEvent.objects.filter(action="deliverable.download").exists()


def test_it_refuses_the_pack_to_a_member_of_another_project(
    finished_run, consultant, reviewer, outsider, api, login, django_capture_on_commit_callbacks
):
    version = finished_run.version
    _step(api(consultant), version, "submit")
    with django_capture_on_commit_callbacks(execute=True):
        _step(api(reviewer), version, "approve", "Fine.")
    assert login(outsider).get(f"/governance/versions/{version.pk}/approved.zip").status_code == 404


def test_a_version_approved_before_its_edition_was_built_gets_it_on_first_download(
    finished_run, consultant, reviewer, api, login
):
    # given an approval whose after-commit build never ran (as for versions approved earlier)
    version = finished_run.version
    _step(api(consultant), version, "submit")
    _step(api(reviewer), version, "approve", "Fine.")
    assert not Deliverable.objects.filter(version=version, kind="deck-approved.pptx").exists()

    # when the pack is downloaded, the approved edition is built then
    response = login(consultant).get(f"/governance/versions/{version.pk}/approved.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "deck-approved.pptx" in names and "report-approved.pdf" in names
