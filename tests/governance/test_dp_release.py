"""Noisy profiles are released on request and the version's budget is recorded and enforced."""

from __future__ import annotations

from django.urls import reverse

from audit.models import AuditEvent
from governance.dp_release import dp_budget_spent
from tests.projects.helpers import rerun


def test_releases_spend_the_budget_and_are_refused_beyond_it(finished_run, consultant, login):
    client = login(consultant)
    version = finished_run.version
    url = reverse("governance:version_dp_release", args=[version.pk])

    client.post(url, {"epsilon": "0.6"})
    assert abs(dp_budget_spent(version) - 0.6) < 1e-9
    response = client.post(url, {"epsilon": "0.6"}, follow=True)
    assert "at most ε=0.4 is left" in response.content.decode()
    assert version.dp_releases.count() == 1
    page = client.get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert "size" in page and "ε spent 0.600 of 1.000" in page
    assert AuditEvent.objects.filter(action="dp.release").count() == 1


def test_a_reviewer_cannot_request_a_release(finished_run, reviewer, login):
    url = reverse("governance:version_dp_release", args=[finished_run.version.pk])
    assert login(reviewer).post(url, {"epsilon": "0.1"}).status_code == 403


def test_the_spec_sets_the_versions_epsilon_budget(finished_run, consultant, login):
    version = rerun(finished_run, consultant, dp_epsilon=0.5).version
    url = reverse("governance:version_dp_release", args=[version.pk])

    response = login(consultant).post(url, {"epsilon": "0.6"}, follow=True)

    assert "at most ε=0.5 is left" in response.content.decode()
    assert version.dp_releases.count() == 0
    page = login(consultant).get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert "ε spent 0.000 of 0.500" in page
