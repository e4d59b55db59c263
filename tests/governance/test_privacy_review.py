"""PII found on upload is reviewed in the portal before any run, then anonymised."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from governance.models import PrivacyReview
from governance.pii_review import project_key
from projects.models import Dataset
from runs import services as run_services
from segmentation import read_csv_bytes
from segmentation.protection.pii import pseudonym
from segplatform.errors import ApplicationError
from tests.governance.helpers import as_csv, notes_and_birth_table, pii_table
from tests.projects.helpers import NUMERIC

SPEC = {"id_column": "email", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}


def upload_pii(client, project):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("clients.csv", as_csv(pii_table()), "text/csv"), "id_column": "email"},
    )


def confirm(client, dataset, **extra):  # type: ignore[no-untyped-def]
    data = {"quasi_identifiers": ["gender", "age"], **extra}
    return client.post(reverse("governance:privacy_review", args=[dataset.pk]), data)


def test_an_upload_with_pii_leads_to_its_review_showing_masked_samples(project, consultant, login):
    client = login(consultant)
    response = upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:privacy_review", args=[dataset.pk])

    page = client.get(response["Location"]).content.decode()
    assert "E-mail addresses" in page and "Person names" in page and "Phone numbers" in page
    assert "c***@e***.com" in page
    assert "customer0@example.com" not in page
    assert "sku" not in {f["column"] for f in dataset.privacy_review.findings}  # product code, not a card


def test_runs_are_refused_until_the_review_is_confirmed(project, consultant, login):
    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    with pytest.raises(ApplicationError, match="not been reviewed"):
        run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)


def test_confirming_anonymises_the_table_and_deletes_the_raw_upload(
    project, consultant, login, django_capture_on_commit_callbacks
):
    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    raw_name = dataset.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, dataset)

    assert response.status_code == 302
    dataset.refresh_from_db()
    assert not dataset.file.storage.exists(raw_name)
    with dataset.file.open("rb") as handle:
        table = read_csv_bytes(handle.read())
    assert "full_name" not in table.columns and "phone" not in table.columns
    assert table["email"].iloc[0] == pseudonym("customer0@example.com", project_key(project))
    assert "@" not in "".join(table["email"])
    review = PrivacyReview.objects.get(dataset=dataset)
    assert review.is_confirmed and review.id_pseudonymised and review.confirmed_by == consultant
    assert review.risk["k_anonymity"] >= 1
    event = AuditEvent.objects.filter(action="pii.confirm").get()
    assert event.details["decisions"] == {"email": "pseudonymise", "full_name": "drop", "phone": "drop"}


def test_labels_join_on_pseudonyms_and_the_manifest_says_so(project, consultant, login):
    import json

    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    confirm(client, dataset)
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    files = {d.kind: d for d in run.version.deliverables.all()}
    manifest = json.loads(files["manifest.json"].file.open("rb").read())
    assert manifest["customer_id"]["pseudonymised"] is True
    labels = read_csv_bytes(files["labels.csv"].file.open("rb").read())
    key = project_key(project)
    assert set(labels["customer_id"]) == {pseudonym(f"customer{i}@example.com", key) for i in range(200)}


def test_the_consultant_can_correct_a_decision(project, consultant, login):
    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    confirm(
        client,
        dataset,
        action__full_name="keep",
        extra_column="sku",
        extra_kind="payment_card",
        extra_action="drop",
    )
    dataset.refresh_from_db()
    assert "full_name" in dataset.columns and "sku" not in dataset.columns


def test_keeping_an_email_id_in_clear_is_refused_on_the_page(project, consultant, login):
    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    response = confirm(client, dataset, action__email="keep")
    assert response.status_code == 400
    assert "must be pseudonymised" in response.content.decode()
    assert not PrivacyReview.objects.get(dataset=dataset).is_confirmed


def test_a_reviewer_sees_the_review_but_cannot_confirm_it(project, consultant, reviewer, login):
    upload_pii(login(consultant), project)
    dataset = Dataset.objects.get(project=project)
    client = login(reviewer)
    assert client.get(reverse("governance:privacy_review", args=[dataset.pk])).status_code == 200
    assert confirm(client, dataset).status_code == 403


def test_an_outsider_gets_404(project, consultant, outsider, login):
    upload_pii(login(consultant), project)
    dataset = Dataset.objects.get(project=project)
    assert login(outsider).get(reverse("governance:privacy_review", args=[dataset.pk])).status_code == 404


def test_the_raw_upload_is_kept_when_the_retention_setting_says_so(project, consultant, login):
    from governance.pii_review import policy_for

    policy = policy_for(project)
    policy.keep_raw_days = 7
    policy.save()
    client = login(consultant)
    upload_pii(client, project)
    dataset = Dataset.objects.get(project=project)
    confirm(client, dataset)
    review = PrivacyReview.objects.get(dataset=dataset)
    assert review.raw_file and review.raw_delete_after is not None
    assert b"customer0@example.com" in review.raw_file.open("rb").read()


def test_an_administrator_edits_the_policy_in_the_admin_without_seeing_the_key(project, admin_client):
    from governance.pii_review import policy_for

    policy = policy_for(project)
    url = reverse("admin:governance_projectpolicy_change", args=[policy.pk])
    page = admin_client.get(url).content.decode()
    assert "target_k" in page and policy.pseudonym_key_encrypted not in page
    admin_client.post(
        url, {"target_k": 10, "keep_raw_days": 0, "retention_days": 90, "dp_budget_per_version": 1.0}
    )
    policy.refresh_from_db()
    assert (policy.target_k, policy.retention_days) == (10, 90)
    assert admin_client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200


def test_notes_with_personal_data_and_a_day_first_birth_column_are_in_the_review(project, consultant, login):
    # Given a table whose notes hold phones, e-mails and addresses and whose `birth` is DD/MM/YYYY
    client = login(consultant)
    table = notes_and_birth_table()
    client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile("crm.csv", as_csv(table), "text/csv"), "id_column": "customer_id"},
    )
    dataset = Dataset.objects.get(project=project)
    # When the consultant opens the privacy review
    page = client.get(reverse("governance:privacy_review", args=[dataset.pk])).content.decode()
    # Then both columns are listed, the notes to be dropped and the birth dates masked to the year
    assert "<code>notes</code>" in page and "Personal data inside free text" in page
    assert "<code>birth</code>" in page and "Dates of birth" in page
    assert "jo.b@example.com" not in page and "7946 0958" not in page
    response = confirm(client, dataset, quasi_identifiers=["region"])
    assert response.status_code == 302
    dataset.refresh_from_db()
    with dataset.file.open("rb") as handle:
        clean = read_csv_bytes(handle.read())
    assert "notes" not in clean.columns
    assert clean["birth"].tolist() == [d[-4:] for d in table["birth"]]
