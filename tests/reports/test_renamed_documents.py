"""After a consultant renames a segment and labels a column, the draft deck and report say the
new name and the label (read back with python-pptx and pypdf), and the manifest hashes the new files."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from pptx import Presentation
from pypdf import PdfReader

from governance.presentation import column_labels_set, presented_segments, segment_names_set
from reports.models import Deliverable
from tests.reports.helpers import slide_text

pytestmark = pytest.mark.django_db


def _read(version, kind: str) -> bytes:  # type: ignore[no-untyped-def]
    with Deliverable.objects.get(version=version, kind=kind).file.open("rb") as handle:
        return handle.read()


def _deck_text(data: bytes) -> str:
    return " ".join(slide_text(slide) for slide in Presentation(io.BytesIO(data)).slides)


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def test_the_draft_deck_and_report_carry_the_new_name_and_the_column_label(
    quick_run, consultant, django_capture_on_commit_callbacks
):
    # given a draft version whose documents use the engine's names
    version = quick_run.version
    first = presented_segments(version)[0]
    column = quick_run.dataset.numeric_columns[0]
    assert first.name in _deck_text(_read(version, "deck.pptx"))

    # when the consultant renames its first segment and labels a column
    with django_capture_on_commit_callbacks(execute=True):
        segment_names_set(
            version=version,
            segments=[
                {"segment": first.segment, "name": "Weekend regulars", "actions": ["Call on Saturdays"]}
            ],
            user=consultant,
        )
    with django_capture_on_commit_callbacks(execute=True):
        column_labels_set(project=version.project, labels={column: "Basket in rand"}, user=consultant)

    # then both drafts say the new name, its action and the label, not the old name
    deck, report = _deck_text(_read(version, "deck.pptx")), _pdf_text(_read(version, "report.pdf"))
    for text in (deck, report):
        assert "Weekend regulars" in text and "Basket in rand" in text
        assert first.name not in text
    assert "Call on Saturdays" in report

    # and the manifest hashes the rebuilt files, so the pack still verifies
    manifest = json.loads(_read(version, "manifest.json"))
    for kind in ("deck.pptx", "report.pdf"):
        assert manifest["files"][kind]["sha256"] == hashlib.sha256(_read(version, kind)).hexdigest()
        assert Deliverable.objects.get(version=version, kind=kind).sha256 == manifest["files"][kind]["sha256"]
