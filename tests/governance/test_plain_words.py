"""The portal says what happened in words: audit actions and privacy-review statuses."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.wording import ACTION_LABELS
from projects.models import Dataset
from tests.governance.helpers import as_csv, pii_table
from tests.projects.helpers import upload_csv


def test_the_project_page_names_audit_actions_in_words(project, consultant, reviewer, login):
    client = login(consultant)
    raw, _ = upload_csv(120, seed=3)
    client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("customers.csv", raw, "text/csv"), "id_column": "customer_id"},
    )
    page = client.get(reverse("runs:project", args=[project.pk])).content.decode()
    assert "Uploaded a dataset" in page and "Created the project" in page

    exported = login(reviewer).get(reverse("governance:audit_trail", args=[project.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {r["action"]: r["what"] for r in rows}["dataset.upload"] == "uploaded a dataset"


def test_every_action_the_platform_records_has_words():
    # Scanning the code for the codes it records keeps the wording from falling behind.
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    recorded = set()
    for path in root.glob("*/*.py"):
        if path.parts[-2] in {"tests", "bench", ".venv", "segmentation"}:
            continue
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert recorded and recorded <= set(ACTION_LABELS), sorted(recorded - set(ACTION_LABELS))


def test_a_review_with_nothing_found_does_not_claim_a_confirmation(project, consultant, login):
    client = login(consultant)
    raw, _ = upload_csv(120, seed=4)
    client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("plain.csv", raw, "text/csv"), "id_column": "customer_id"},
    )
    client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("clients.csv", as_csv(pii_table()), "text/csv"), "id_column": "email"},
    )
    pii = Dataset.objects.get(project=project, name="clients.csv")
    client.post(reverse("governance:privacy_review", args=[pii.pk]), {"quasi_identifiers": ["gender", "age"]})

    page = client.get(reverse("governance:project", args=[project.pk])).content.decode()
    assert "Nothing to confirm: no personal data found" in page
    assert f"Confirmed by {consultant.username}" in page
