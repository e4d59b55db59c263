"""From the results page a consultant re-runs without the flagged proxies and reads both audits side by side."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from governance.models import BiasAudit, Mitigation
from projects.models import SegmentationRun
from runs import services as run_services
from tests.conftest import PASSWORD
from tests.segmentation.mitigation_data import SPEC, customers

# slow: three segmentation runs each (PostgreSQL's whole suite runs them; the SQLite set does not)
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def audited_run(project, consultant):  # type: ignore[no-untyped-def]
    dataset = run_services.dataset_upload(
        project=project,
        name="customers.csv",
        content=customers().to_csv(index=False).encode(),
        id_column="customer_id",
        user=consultant,
    )
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.error
    return run


def test_a_consultant_reruns_without_the_proxy_and_sees_both_audits_side_by_side(
    client, consultant, audited_run
):
    client.login(username=consultant.username, password=PASSWORD)
    page = client.get(reverse("runs:run_detail", args=[audited_run.pk])).content.decode()
    assert 'id="mitigate-form"' in page and "Re-run without tenure" in page

    response = client.post(reverse("runs:run_mitigate", args=[audited_run.pk]))
    mitigation = Mitigation.objects.get()
    assert mitigation.source == audited_run.version and mitigation.dropped_features == ["tenure"]
    assert response.status_code == 302 and response.url == reverse(
        "runs:run_detail", args=[mitigation.run_id]
    )
    assert mitigation.run.spec["excluded_features"] == ["tenure"]
    # what the version ran (its resolved spec), with the proxies left out and nothing else changed
    assert {
        k: v for k, v in mitigation.run.spec.items() if k != "excluded_features"
    } == audited_run.version.spec

    finished = run_services.run_execute(run_id=mitigation.run_id)  # as the worker would
    assert finished.status == SegmentationRun.Status.SUCCEEDED, finished.error
    before, after = audited_run.version.bias_audit, BiasAudit.objects.get(version=finished.version)
    stored = after.findings["mitigation"]
    assert stored["source_label"] == audited_run.version.label
    gender = stored["attributes"][0]
    assert gender["auc_before"] == before.findings["proxies"]["gender"]["auc"]
    assert gender["auc_after"] == after.findings["proxies"]["gender"]["auc"] < 0.65
    largest = max(r["demographic_parity_difference"] for r in before.rows)
    assert gender["largest_gap_before"]["difference"] == pytest.approx(largest)
    assert gender["largest_gap_after"]["difference"] < largest / 2

    page = client.get(reverse("runs:run_detail", args=[finished.pk])).content.decode()
    assert 'id="mitigation-table"' in page and f"side by side with {audited_run.version.label}" in page
    assert f"{gender['auc_before']:.2f}" in page and f"{gender['auc_after']:.2f}" in page
    assert "without tenure" in page and 'id="mitigate-form"' not in page
    deliverable = finished.version.deliverables.get(kind="bias.json")
    bias_json = json.loads(client.get(reverse("runs:deliverable_download", args=[deliverable.pk])).content)
    assert bias_json["mitigation"]["dropped_features"] == ["tenure"]
    assert bias_json["findings"][0].startswith(
        f"Mitigation run, side by side with {audited_run.version.label}"
    )

    source_page = client.get(reverse("runs:run_detail", args=[audited_run.pk])).content.decode()
    assert f'href="{reverse("runs:run_detail", args=[finished.pk])}"' in source_page


def test_nothing_to_drop_is_said_and_starts_no_run(client, consultant, audited_run):
    client.login(username=consultant.username, password=PASSWORD)
    client.post(reverse("runs:run_mitigate", args=[audited_run.pk]))
    mitigated = run_services.run_execute(run_id=Mitigation.objects.get().run_id)
    runs = SegmentationRun.objects.count()
    response = client.post(reverse("runs:run_mitigate", args=[mitigated.pk]), follow=True)
    assert "flagged no proxy feature, so there is nothing to drop" in response.content.decode()
    assert SegmentationRun.objects.count() == runs


def test_a_reviewer_sees_no_rerun_button_and_cannot_start_one(client, audited_run, reviewer):
    client.login(username=reviewer.username, password=PASSWORD)
    page = client.get(reverse("runs:run_detail", args=[audited_run.pk])).content.decode()
    assert 'id="mitigate-form"' not in page
    assert client.post(reverse("runs:run_mitigate", args=[audited_run.pk])).status_code == 403
    assert not Mitigation.objects.exists()


def test_the_api_starts_the_same_mitigation_run(audited_run, consultant, reviewer):
    from rest_framework.test import APIClient

    from tests.conftest import api_key

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(reviewer)}")
    url = f"/api/v1/versions/{audited_run.version.pk}/mitigate/"
    assert api.post(url).status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(consultant)}")
    response = api.post(url)
    assert response.status_code == 201, response.content
    assert response.json()["spec"]["excluded_features"] == ["tenure"]
    assert Mitigation.objects.get().run_id == response.json()["id"]
