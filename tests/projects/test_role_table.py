"""Each cell of the role table for the data, run and member actions, through the portal and the API
alike: consultants and project administrators upload, run and cancel; reviewers do none of it; only
project administrators invite, change roles and remove members; outsiders find no project at all."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from projects.access import CAN
from projects.models import Dataset, Membership, SegmentationRun
from tests.conftest import api_key
from tests.projects.helpers import NUMERIC, upload_csv

# slow: a finished segmentation run behind every cell; the whole suite checks each cell on PostgreSQL,
# the single-machine set (SQLite) leaves the table to it
pytestmark = pytest.mark.slow
ROLES = ["consultant", "reviewer", "admin"]
ALLOWED = {"consultant": True, "reviewer": False, "admin": True}


@pytest.fixture
def member(finished_run, consultant, reviewer, make_user):  # type: ignore[no-untyped-def]
    from projects.services import membership_add

    admin = make_user("ada")
    membership_add(project=finished_run.project, user=admin, role=Membership.Role.ADMIN)
    return {"consultant": consultant, "reviewer": reviewer, "admin": admin}


def api_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def a_consultants_run(finished_run, consultant) -> SegmentationRun:  # type: ignore[no-untyped-def]
    from runs import services

    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    return services.run_start(
        project=finished_run.project, dataset=finished_run.dataset, spec=spec, user=consultant, enqueue=False
    )


def test_the_table_gives_reviewers_no_data_or_run_actions():
    for action in ("upload", "run", "cancel"):
        assert CAN[action] == {Membership.Role.CONSULTANT, Membership.Role.ADMIN}
    for action in ("approve", "retire"):
        assert Membership.Role.REVIEWER in CAN[action] and Membership.Role.CONSULTANT not in CAN[action]


@pytest.mark.parametrize("role", ROLES)
def test_upload_through_the_api(finished_run, member, role):
    before = Dataset.objects.count()
    response = api_for(member[role]).post(
        "/api/v1/datasets/",
        {"project": finished_run.project.pk, "file": SimpleUploadedFile("c.csv", upload_csv(50)[0])},
        format="multipart",
    )
    assert response.status_code == (201 if ALLOWED[role] else 403), response.content
    assert Dataset.objects.count() == before + ALLOWED[role]


@pytest.mark.parametrize("role", ROLES)
def test_upload_through_the_portal(finished_run, member, role, client):
    client.force_login(member[role])
    before = Dataset.objects.count()
    url = reverse("runs:dataset_upload", args=[finished_run.project.pk])
    response = client.post(url, {"file": SimpleUploadedFile("c.csv", upload_csv(50)[0]), "id_column": ""})
    assert response.status_code == (302 if ALLOWED[role] else 403)
    assert Dataset.objects.count() == before + ALLOWED[role]


@pytest.mark.parametrize("role", ROLES)
def test_starting_a_run_through_the_api(finished_run, member, role):
    before = SegmentationRun.objects.count()
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    response = api_for(member[role]).post(
        "/api/v1/runs/",
        {"project": finished_run.project.pk, "dataset": finished_run.dataset.pk, "spec": spec},
        format="json",
    )
    assert response.status_code == (201 if ALLOWED[role] else 403), response.content
    assert SegmentationRun.objects.count() == before + ALLOWED[role]


@pytest.mark.parametrize("role", ROLES)
def test_starting_a_run_through_the_portal(finished_run, member, role, client):
    client.force_login(member[role])
    before = SegmentationRun.objects.count()
    url = reverse("runs:run_new", args=[finished_run.project.pk])
    form = {
        "dataset": finished_run.dataset.pk,
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 3,
        "random_state": 0,
    }
    response = client.post(url, form)
    assert response.status_code == (302 if ALLOWED[role] else 403)
    assert SegmentationRun.objects.count() == before + ALLOWED[role]


@pytest.mark.parametrize("role", ROLES)
def test_cancelling_a_consultants_run_through_the_api(finished_run, member, role):
    run = a_consultants_run(finished_run, member["consultant"])
    response = api_for(member[role]).post(f"/api/v1/runs/{run.pk}/cancel/")
    assert response.status_code == (200 if ALLOWED[role] else 403), response.content
    run.refresh_from_db()
    assert (run.status == SegmentationRun.Status.CANCELLED) == ALLOWED[role]


@pytest.mark.parametrize("role", ROLES)
def test_cancelling_a_consultants_run_through_the_portal(finished_run, member, role, client):
    run = a_consultants_run(finished_run, member["consultant"])
    client.force_login(member[role])
    response = client.post(reverse("runs:run_cancel", args=[run.pk]))
    assert response.status_code == (302 if ALLOWED[role] else 403)
    run.refresh_from_db()
    assert (run.status == SegmentationRun.Status.CANCELLED) == ALLOWED[role]


# Managing members: one row of the table, only administrators; an outsider's project does not exist.
PEOPLE = [*ROLES, "outsider"]
MANAGES = {"consultant": False, "reviewer": False, "admin": True}


@pytest.fixture
def team(project, consultant, reviewer, outsider, make_user):  # type: ignore[no-untyped-def]
    from projects.services import membership_add

    admin = make_user("ada")
    membership_add(project=project, user=admin, role=Membership.Role.ADMIN)
    make_user("nina")  # not on the project yet: the one to invite
    return {"consultant": consultant, "reviewer": reviewer, "admin": admin, "outsider": outsider}


def expected(person: str, success: int) -> int:
    if person == "outsider":
        return 404
    return success if MANAGES[person] else 403


def role_of(project, username: str) -> str | None:  # type: ignore[no-untyped-def]
    return project.memberships.filter(user__username=username).values_list("role", flat=True).first()


def test_the_table_lets_only_administrators_manage_members():
    assert CAN["manage_members"] == {Membership.Role.ADMIN}
    # An administrator loses nothing a consultant or a reviewer may do.
    assert all(Membership.Role.ADMIN in roles for roles in CAN.values())


@pytest.mark.parametrize("person", PEOPLE)
def test_inviting_a_member_through_the_api(project, team, person):
    url = f"/api/v1/projects/{project.pk}/members/"
    response = api_for(team[person]).post(url, {"user": "nina", "role": "reviewer"}, format="json")
    assert response.status_code == expected(person, 201), response.content
    assert role_of(project, "nina") == ("reviewer" if MANAGES.get(person) else None)


@pytest.mark.parametrize("person", PEOPLE)
def test_inviting_a_member_through_the_portal(project, team, person, client):
    client.force_login(team[person])
    response = client.post(
        reverse("projects:members", args=[project.pk]), {"user": "nina", "role": "reviewer"}
    )
    assert response.status_code == expected(person, 302)
    assert role_of(project, "nina") == ("reviewer" if MANAGES.get(person) else None)


@pytest.mark.parametrize("person", PEOPLE)
def test_changing_a_role_through_the_api(project, team, person):
    url = f"/api/v1/projects/{project.pk}/members/{team['reviewer'].pk}/"
    response = api_for(team[person]).patch(url, {"role": "consultant"}, format="json")
    assert response.status_code == expected(person, 200), response.content
    assert role_of(project, "rita") == ("consultant" if MANAGES.get(person) else "reviewer")


@pytest.mark.parametrize("person", PEOPLE)
def test_changing_a_role_through_the_portal(project, team, person, client):
    client.force_login(team[person])
    url = reverse("projects:member_role", args=[project.pk, team["reviewer"].pk])
    response = client.post(url, {"role": "consultant"})
    assert response.status_code == expected(person, 302)
    assert role_of(project, "rita") == ("consultant" if MANAGES.get(person) else "reviewer")


@pytest.mark.parametrize("person", PEOPLE)
def test_removing_a_member_through_the_api(project, team, person):
    url = f"/api/v1/projects/{project.pk}/members/{team['reviewer'].pk}/"
    response = api_for(team[person]).delete(url)
    assert response.status_code == expected(person, 204), response.content
    assert role_of(project, "rita") == (None if MANAGES.get(person) else "reviewer")


@pytest.mark.parametrize("person", PEOPLE)
def test_removing_a_member_through_the_portal(project, team, person, client):
    client.force_login(team[person])
    response = client.post(reverse("projects:member_remove", args=[project.pk, team["reviewer"].pk]))
    assert response.status_code == expected(person, 302)
    assert role_of(project, "rita") == (None if MANAGES.get(person) else "reviewer")


@pytest.mark.parametrize("person", PEOPLE)
def test_reading_the_members_through_the_api(project, team, person):
    response = api_for(team[person]).get(f"/api/v1/projects/{project.pk}/members/")
    assert response.status_code == (404 if person == "outsider" else 200), response.content
    if person != "outsider":
        names = {m["username"]: m["role"] for m in response.json()["results"]}
        assert names == {"owner": "consultant", "rita": "reviewer", "ada": "admin"}


@pytest.mark.parametrize("person", PEOPLE)
def test_reading_the_members_through_the_portal(project, team, person, client):
    client.force_login(team[person])
    response = client.get(reverse("projects:members", args=[project.pk]))
    assert response.status_code == (404 if person == "outsider" else 200)
    if person != "outsider":
        page = response.content.decode()
        assert all(name in page for name in ("owner", "rita", "ada"))
        # Only an administrator is offered the invitation, the role selects and the remove buttons.
        assert ("Invite a member" in page) == MANAGES[person]
        assert ('name="role"' in page) == MANAGES[person]
        assert (">Remove<" in page) == MANAGES[person]
