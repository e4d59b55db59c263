"""A reviewer deploys an approved version for its lineage; one at a time, audited, from the portal and the API."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from governance.deployment import deployed_version
from governance.lifecycle import version_transition
from governance.models import Deployment
from runs import services as run_services
from tests.conftest import api_key

pytestmark = pytest.mark.django_db


def approved(version, consultant, reviewer):  # type: ignore[no-untyped-def]
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="fine", override_reason="checked"
    )
    return version


def second_version(finished_run, consultant):  # type: ignore[no-untyped-def]
    run = run_services.run_start(
        project=finished_run.project,
        dataset=finished_run.dataset,
        spec=finished_run.spec,
        user=consultant,
        enqueue=False,
    )
    return run_services.run_execute(run_id=run.pk).version


def test_a_reviewer_deploys_from_the_version_page_and_a_consultant_cannot(
    finished_run, consultant, reviewer, login
):
    version = approved(finished_run.version, consultant, reviewer)
    url = reverse("governance:version_detail", args=[version.pk])

    as_consultant = login(consultant)
    assert 'id="deploy-form"' not in as_consultant.get(url).content.decode()
    assert as_consultant.post(reverse("governance:version_deploy", args=[version.pk])).status_code == 403
    assert not Deployment.objects.exists()

    as_reviewer = login(reviewer)
    assert 'id="deploy-form"' in as_reviewer.get(url).content.decode()
    as_reviewer.post(reverse("governance:version_deploy", args=[version.pk]))
    assert deployed_version(project=version.project, lineage="customers") == version
    page = as_reviewer.get(url).content.decode()
    assert 'id="deployed"' in page and "customers" in page
    event = AuditEvent.objects.get(action="version.deploy")
    assert event.actor == reviewer and event.details == {"lineage": "customers", "replaces": None}


def test_deploying_another_version_of_the_lineage_replaces_the_deployed_one_through_the_api(
    finished_run, consultant, reviewer
):
    first = approved(finished_run.version, consultant, reviewer)
    second = approved(second_version(finished_run, consultant), consultant, reviewer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(reviewer)}")
    assert api.post(f"/api/v1/versions/{first.pk}/deploy/").json()["deployed"]["lineage"] == "customers"
    response = api.post(f"/api/v1/versions/{second.pk}/deploy/")
    assert response.status_code == 200 and response.json()["deployed"] is not None
    assert api.get(f"/api/v1/versions/{first.pk}/").json()["deployed"] is None
    assert deployed_version(project=first.project, lineage="customers") == second
    assert Deployment.objects.filter(ended_at__isnull=True).count() == 1
    assert Deployment.objects.get(version=first).ended_at is not None
    replaced = AuditEvent.objects.filter(action="version.deploy").latest("id")
    assert replaced.details == {"lineage": "customers", "replaces": first.label}

    again = api.post(f"/api/v1/versions/{second.pk}/deploy/")
    assert again.status_code == 400 and "already the deployed version" in again.json()["error"]["message"]


def test_only_an_approved_version_is_deployed(finished_run, consultant, reviewer):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(reviewer)}")
    response = api.post(f"/api/v1/versions/{finished_run.version.pk}/deploy/")
    assert response.status_code == 400
    assert "only an approved version can be deployed; v1 is draft" in response.json()["error"]["message"]
    assert not Deployment.objects.exists()


def test_the_database_refuses_two_open_deployments_of_one_lineage(finished_run, consultant, reviewer):
    version = approved(finished_run.version, consultant, reviewer)
    Deployment.objects.create(project=version.project, lineage="customers", version=version)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.create(project=version.project, lineage="customers", version=version)
