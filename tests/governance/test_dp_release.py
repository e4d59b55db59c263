"""Noisy profiles are released on request and the version's budget is recorded and enforced."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
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


def test_a_density_version_releases_through_the_portal_with_its_noise_customers(quick_run, consultant, login):
    version = rerun(quick_run, consultant, algorithms=["hdbscan"], k_min=2, k_max=5).version
    client = login(consultant)

    response = client.post(
        reverse("governance:version_dp_release", args=[version.pk]), {"epsilon": "0.8"}, follow=True
    )

    assert "Released a differentially private profile" in response.content.decode()
    release = version.dp_releases.get()
    assert release.epsilon == pytest.approx(0.8)
    assert release.epsilon == pytest.approx(sum(release.accounting["parts"].values()))
    segments = [row["segment"] for row in release.table]
    assert segments[0] == -1 and segments[1:] == list(range(len(segments) - 1))
    page = client.get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert "Segment −1 holds a density model" in page and "(DP quantile)" in page


def test_under_a_dp_policy_the_exact_profile_stays_and_the_noisy_release_downloads(
    quick_run, consultant, login, api
):
    bounds = {
        "recency_days": [0, 400],
        "orders_per_year": [0, 60],
        "avg_basket": [0, 500],
        "tenure_months": [0, 120],
    }
    version = rerun(quick_run, consultant, dp_epsilon=1.0, dp_bounds=bounds).version
    client = login(consultant)
    profile = version.deliverables.get(kind="profile.csv")

    refused = client.get(reverse("runs:deliverable_download", args=[profile.pk]), follow=True)
    from_api = api(consultant).get(f"/api/v1/deliverables/{profile.pk}/download/")
    client.post(reverse("governance:version_dp_release", args=[version.pk]), {"epsilon": "0.5"})
    release = version.dp_releases.get()
    noisy = client.get(reverse("governance:dp_release_download", args=[release.pk]))

    assert (
        "profile.csv of v" in refused.content.decode()
        and "only noisy tables leave" in refused.content.decode()
    )
    assert "withheld: this version" in refused.content.decode()  # the version page marks the file
    assert from_api.status_code == 403 and "only noisy tables leave" in from_api.json()["error"]["message"]
    assert noisy.status_code == 200 and noisy.content.startswith(b"segment,size,recency_days_mean")
    assert set(release.accounting["bounds_source"].values()) == {"declared"}
    assert release.accounting["bounds"]["avg_basket"] == [0, 500]
    bundle = zipfile.ZipFile(
        io.BytesIO(client.get(reverse("reports:version_deliverables_zip", args=[version.pk])).content)
    )
    assert "dp_release_1.csv" in bundle.namelist() and "profile.csv" not in bundle.namelist()
    assert "only noisy tables leave" in json.loads(bundle.read("MANIFEST.json"))["left_out"]["profile.csv"]
    labels = version.deliverables.get(kind="labels.csv")
    assert client.get(reverse("runs:deliverable_download", args=[labels.pk])).status_code == 200
