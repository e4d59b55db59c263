"""A user sees and touches only the projects they are a member of: anything else is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def project_urls(run):  # type: ignore[no-untyped-def]
    deliverable = run.version.deliverables.first()
    return [
        ("get", reverse("runs:project", args=[run.project.pk])),
        ("get", reverse("runs:dataset_upload", args=[run.project.pk])),
        ("post", reverse("runs:dataset_upload", args=[run.project.pk])),
        ("get", reverse("runs:run_new", args=[run.project.pk])),
        ("post", reverse("runs:run_new", args=[run.project.pk])),
        ("get", reverse("runs:run_detail", args=[run.pk])),
        ("get", reverse("runs:run_status", args=[run.pk])),
        ("post", reverse("runs:run_cancel", args=[run.pk])),
        ("get", reverse("runs:deliverable_download", args=[deliverable.pk])),
    ]


def test_it_refuses_every_project_url_to_a_member_of_another_project(finished_run, outsider, login):
    client = login(outsider)
    for method, url in project_urls(finished_run):
        response = getattr(client, method)(url)
        assert response.status_code == 404, f"{method.upper()} {url} gave {response.status_code}"


def test_it_refuses_download_from_another_project(finished_run, outsider, login):
    deliverable = finished_run.version.deliverables.get(kind="labels.csv")
    response = login(outsider).get(reverse("runs:deliverable_download", args=[deliverable.pk]))
    assert response.status_code == 404
    assert b"customer_id" not in response.content


def test_the_dashboard_lists_only_the_users_own_projects(finished_run, outsider, login):
    page = login(outsider).get(reverse("projects:dashboard")).content.decode()
    assert "Elsewhere" in page
    assert finished_run.project.name not in page


def test_a_stranger_is_sent_to_the_login_page(finished_run, client):
    for method, url in [*project_urls(finished_run), ("get", reverse("projects:dashboard"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_members_in_any_role_can_open_every_page(finished_run, reviewer, login):
    client = login(reviewer)
    for method, url in project_urls(finished_run):
        if method == "get":
            assert client.get(url).status_code == 200, url
