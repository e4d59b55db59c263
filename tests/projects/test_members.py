"""A project's administrators decide who works on it, on the members page and through the API,
every change in the audit trail; a project never loses its last administrator."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.selectors import audit_chain_check
from projects.models import Membership
from tests.conftest import api_key


@pytest.fixture
def admin(project):  # type: ignore[no-untyped-def]
    """The project's creator, who administers it."""
    return project.created_by


def api_for(user):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def client_for(user):  # type: ignore[no-untyped-def]
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def membership_events(project) -> list[tuple[str, str, dict]]:  # type: ignore[no-untyped-def]
    events = AuditEvent.objects.filter(project=project, action__startswith="membership.").order_by("id")
    return [(e.action, e.actor_name, e.details) for e in events]


def page_messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_the_creator_of_a_project_administers_it(project, admin):
    assert project.memberships.get(user=admin).role == Membership.Role.ADMIN


def test_an_admin_invites_a_reviewer_by_email_changes_the_role_and_removes_them(
    project, admin, make_user, client
):
    # Given a user with an account who is not on the project
    vera = make_user("vera")
    vera.email = "vera@example.com"
    vera.save()
    client.force_login(admin)
    project_page = client.get(reverse("runs:project", args=[project.pk])).content.decode()
    members_url = reverse("projects:members", args=[project.pk])
    assert f'href="{members_url}"' in project_page

    # When the administrator invites her by e-mail (as typed, in capitals) as a reviewer
    invited = client.post(members_url, {"user": "Vera@Example.com", "role": "reviewer"}, follow=True)
    assert "vera joined the project as Reviewer." in page_messages(invited)
    # Then she sees the project, as a reviewer
    viewer = client_for(vera)
    assert [p["name"] for p in api_for(vera).get("/api/v1/projects/").json()["results"]] == ["Loyalty 2026"]
    assert "you are reviewer" in viewer.get(reverse("runs:project", args=[project.pk])).content.decode()

    # When the administrator makes her a consultant
    url = reverse("projects:member_role", args=[project.pk, vera.pk])
    changed = client.post(url, {"role": "consultant"}, follow=True)
    assert "vera is now Consultant." in page_messages(changed)
    assert "you are consultant" in viewer.get(reverse("runs:project", args=[project.pk])).content.decode()

    # When the administrator removes her, the project no longer exists for her
    removed = client.post(reverse("projects:member_remove", args=[project.pk, vera.pk]), follow=True)
    assert "vera no longer works on this project." in page_messages(removed)
    assert viewer.get(reverse("runs:project", args=[project.pk])).status_code == 404
    assert "vera" not in client.get(members_url).content.decode()

    # Each change is in the audit trail, with who made it, and the chain still verifies
    assert membership_events(project) == [
        ("membership.add", "owner", {"user": "vera", "role": "reviewer"}),
        ("membership.role_change", "owner", {"user": "vera", "from": "reviewer", "to": "consultant"}),
        ("membership.remove", "owner", {"user": "vera", "role": "consultant"}),
    ]
    assert AuditEvent.objects.filter(action__startswith="membership.", actor=admin).count() == 3
    assert audit_chain_check()[1] is None


def test_the_api_journey_answers_with_the_member(project, admin, make_user):
    make_user("nina")
    api = api_for(admin)
    base = f"/api/v1/projects/{project.pk}/members/"
    created = api.post(base, {"user": "nina", "role": "consultant"}, format="json")
    assert created.status_code == 201
    nina = created.json()
    assert (nina["username"], nina["role"]) == ("nina", "consultant") and nina["since"]
    listed = api.get(base).json()
    assert listed["count"] == 2
    assert [(m["username"], m["role"]) for m in listed["results"]] == [
        ("owner", "admin"),
        ("nina", "consultant"),
    ]
    patched = api.patch(f"{base}{nina['user_id']}/", {"role": "admin"}, format="json")
    assert patched.status_code == 200 and patched.json()["role"] == "admin"
    assert api.delete(f"{base}{nina['user_id']}/").status_code == 204
    assert api.delete(f"{base}{nina['user_id']}/").status_code == 404
    assert [action for action, _, _ in membership_events(project)] == [
        "membership.add",
        "membership.role_change",
        "membership.remove",
    ]


def test_the_last_administrator_can_be_neither_demoted_nor_removed(project, admin, make_user, client):
    client.force_login(admin)
    demoted = client.post(
        reverse("projects:member_role", args=[project.pk, admin.pk]), {"role": "consultant"}, follow=True
    )
    assert page_messages(demoted) == [
        "owner is the project's last administrator and cannot be demoted: make another member an administrator first"
    ]
    removed = client.post(reverse("projects:member_remove", args=[project.pk, admin.pk]), follow=True)
    assert "owner is the project's last administrator and cannot be removed" in page_messages(removed)[0]
    api = api_for(admin)
    refused = api.patch(
        f"/api/v1/projects/{project.pk}/members/{admin.pk}/", {"role": "reviewer"}, format="json"
    )
    assert refused.status_code == 400
    assert "last administrator" in refused.json()["error"]["message"]
    assert refused.json()["error"]["fields"] == {"role": [refused.json()["error"]["message"]]}
    assert api.delete(f"/api/v1/projects/{project.pk}/members/{admin.pk}/").status_code == 400
    assert project.memberships.get(user=admin).role == Membership.Role.ADMIN
    assert membership_events(project) == []

    # With a second administrator, the first may step down
    make_user("ada")
    api.post(f"/api/v1/projects/{project.pk}/members/", {"user": "ada", "role": "admin"}, format="json")
    stepped_down = api.patch(
        f"/api/v1/projects/{project.pk}/members/{admin.pk}/", {"role": "consultant"}, format="json"
    )
    assert stepped_down.status_code == 200
    assert project.memberships.get(user=admin).role == Membership.Role.CONSULTANT


def test_an_admin_who_removes_themselves_goes_back_to_the_dashboard(project, admin, make_user, client):
    ada = make_user("ada")
    api_for(admin).post(
        f"/api/v1/projects/{project.pk}/members/", {"user": "ada", "role": "admin"}, format="json"
    )
    client.force_login(admin)
    response = client.post(reverse("projects:member_remove", args=[project.pk, admin.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("projects:dashboard")
    assert list(project.memberships.values_list("user", flat=True)) == [ada.pk]


def test_an_unknown_user_is_named_and_the_way_forward_given(project, admin, client):
    client.force_login(admin)
    response = client.post(
        reverse("projects:members", args=[project.pk]), {"user": "nobody@example.com", "role": "reviewer"}
    )
    assert response.status_code == 200
    message = (
        "no user has the username or e-mail address 'nobody@example.com': check the spelling, or ask a "
        "platform administrator to create the account first (invitations are for existing users)"
    )
    assert response.context["form"].errors == {"user": [message]}
    assert message.replace("'", "&#x27;") in response.content.decode()
    refused = api_for(admin).post(
        f"/api/v1/projects/{project.pk}/members/",
        {"user": "nobody@example.com", "role": "reviewer"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "invalid", "message": message, "fields": {"user": [message]}}
    assert project.memberships.count() == 1 and membership_events(project) == []


def test_a_member_already_on_the_project_and_a_role_that_does_not_exist_are_refused(project, admin, reviewer):
    api = api_for(admin)
    base = f"/api/v1/projects/{project.pk}/members/"
    again = api.post(base, {"user": "rita", "role": "consultant"}, format="json").json()["error"]
    assert again["message"] == (
        "rita is already a member of this project (Reviewer): change their role in the members list instead"
    )
    boss = api.post(base, {"user": "rita", "role": "boss"}, format="json").json()["error"]
    assert boss["message"] == "'boss' is not a role on a project: choose consultant, reviewer or admin"
    assert boss["fields"] == {"role": [boss["message"]]}
    patched = api.patch(f"{base}{reviewer.pk}/", {"role": "owner"}, format="json")
    assert patched.status_code == 400 and "'owner' is not a role" in patched.json()["error"]["message"]
    assert api.patch(f"{base}999999/", {"role": "reviewer"}, format="json").status_code == 404
    assert project.memberships.get(user=reviewer).role == Membership.Role.REVIEWER


def test_two_users_sharing_an_email_are_told_apart_by_username(project, admin, make_user):
    for name in ("sam", "samantha"):
        user = make_user(name)
        user.email = "s@example.com"
        user.save()
    refused = api_for(admin).post(
        f"/api/v1/projects/{project.pk}/members/",
        {"user": "s@example.com", "role": "reviewer"},
        format="json",
    )
    assert refused.json()["error"]["message"] == (
        "several users have the e-mail address 's@example.com': invite one of them by username"
    )


@pytest.fixture
def staff(django_user_model):  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD

    return django_user_model.objects.create_superuser("root", email="root@example.com", password=PASSWORD)


def test_the_admin_site_lists_clients_projects_and_memberships(project, staff, client):
    client.force_login(staff)
    for model in ("client", "project", "membership"):
        response = client.get(f"/admin/projects/{model}/")
        assert response.status_code == 200, model
        assert "Acme Retail" in response.content.decode()
    searched = client.get("/admin/projects/membership/", {"q": "owner"})
    assert searched.status_code == 200 and "Loyalty 2026" in searched.content.decode()
    project_page = client.get(f"/admin/projects/project/{project.pk}/change/")
    assert project_page.status_code == 200 and "memberships-0-role" in project_page.content.decode()


def test_a_role_changed_on_the_admin_site_is_audited(project, admin, staff, client):
    client.force_login(staff)
    membership = project.memberships.get(user=admin)
    response = client.post(f"/admin/projects/membership/{membership.pk}/change/", {"role": "reviewer"})
    assert response.status_code == 302
    assert membership_events(project) == [
        (
            "membership.role_change",
            "root",
            {"user": "owner", "from": "admin", "to": "reviewer", "via": "admin site"},
        )
    ]


def test_the_admin_site_is_for_staff_only(project, admin, client):
    client.force_login(admin)
    response = client.get("/admin/projects/membership/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_administrators_demoting_each_other_at_once_leave_one(project, admin, make_user):
    # SQLite serialises every writer, so the race this guards against needs PostgreSQL.
    import threading

    from django.db import connection, connections, transaction

    from projects import services
    from tests.conftest import need

    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    ada = make_user("ada")
    services.membership_add(project=project, user=ada, role=Membership.Role.ADMIN)
    refusals: list[BaseException] = []

    def ada_demotes_the_owner() -> None:
        try:
            services.member_role_set(project=project, actor=ada, user=admin, role="consultant")
        except BaseException as exc:  # counted below
            refusals.append(exc)
        finally:
            connections.close_all()

    other = threading.Thread(target=ada_demotes_the_owner)
    with transaction.atomic():
        # The owner demotes ada and has not committed yet when ada demotes the owner.
        services.member_role_set(project=project, actor=admin, user=ada, role="consultant")
        other.start()
        # Without the project's lock ada's change would commit now; with it, she waits for ours.
        other.join(timeout=5)
    other.join(timeout=120)
    assert not other.is_alive()
    assert len(refusals) == 1, refusals
    assert list(project.memberships.filter(role=Membership.Role.ADMIN).values_list("user", flat=True)) == [
        admin.pk
    ]
    assert len(membership_events(project)) == 1


def test_members_added_and_removed_on_the_admin_sites_project_page_are_audited(
    project, admin, reviewer, staff, make_user, client
):
    nina = make_user("nina")
    memberships = list(project.memberships.order_by("pk"))
    form = {
        "client": project.client_id,
        "name": project.name,
        "description": "",
        "memberships-TOTAL_FORMS": len(memberships) + 1,
        "memberships-INITIAL_FORMS": len(memberships),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
    }
    for i, membership in enumerate(memberships):
        form |= {
            f"memberships-{i}-id": membership.pk,
            f"memberships-{i}-project": project.pk,
            f"memberships-{i}-user": membership.user_id,
            f"memberships-{i}-role": membership.role,
        }
    rita = memberships.index(project.memberships.get(user=reviewer))
    form[f"memberships-{rita}-DELETE"] = "on"
    new = len(memberships)
    form |= {f"memberships-{new}-user": nina.pk, f"memberships-{new}-role": "consultant"}
    client.force_login(staff)
    response = client.post(f"/admin/projects/project/{project.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(project.memberships.values_list("user__username", "role")) == {
        ("owner", "admin"),
        ("nina", "consultant"),
    }
    assert membership_events(project) == [
        ("membership.add", "root", {"user": "nina", "role": "consultant", "via": "admin site"}),
        ("membership.remove", "root", {"user": "rita", "role": "reviewer", "via": "admin site"}),
    ]
