"""draft → in review → approved → retired, with a reviewer who is never the author."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from governance.lifecycle import version_status, version_transition
from governance.models import VersionStatusChange
from segplatform.errors import ApplicationError


def act(client, version, action, reason="looks right"):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("governance:version_action", args=[version.pk]), {"action": action, "reason": reason}
    )


def test_a_version_goes_from_draft_to_retired_through_the_portal(finished_run, consultant, reviewer, login):
    version = finished_run.version
    assert version_status(version) == "draft"

    act(login(consultant), version, "submit")
    assert version_status(version) == "in_review"
    act(login(reviewer), version, "approve", "bias audit clean, k=5 met")
    assert version_status(version) == "approved"
    act(login(reviewer), version, "retire", "superseded by v2")
    assert version_status(version) == "retired"

    steps = list(version.status_changes.values_list("status", "actor__username", "reason"))
    assert steps == [
        ("in_review", "owner", "looks right"),
        ("approved", "rita", "bias audit clean, k=5 met"),
        ("retired", "rita", "superseded by v2"),
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"version.submit", "version.approve", "version.retire"} <= actions


def test_the_author_cannot_approve_their_own_version(finished_run, consultant, login):
    from projects.models import Membership

    Membership.objects.filter(user=consultant).update(role=Membership.Role.ADMIN)  # even as an admin
    version = finished_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    with pytest.raises(ApplicationError, match="nobody reviews their own work"):
        version_transition(version=version, action="approve", user=consultant, reason="ok")
    response = act(login(consultant), version, "approve")
    assert response.status_code == 302
    assert version_status(version) == "in_review"


def test_a_consultant_cannot_approve_and_a_reviewer_cannot_submit(
    finished_run, consultant, reviewer, make_user
):
    from projects.models import Membership
    from projects.services import membership_add

    other = make_user("carl")
    membership_add(project=finished_run.project, user=other, role=Membership.Role.CONSULTANT)
    version = finished_run.version
    with pytest.raises(ApplicationError, match="only a"):
        version_transition(version=version, action="submit", user=reviewer, reason="")
    version_transition(version=version, action="submit", user=consultant, reason="")
    with pytest.raises(ApplicationError, match="only a"):
        version_transition(version=version, action="approve", user=other, reason="fine")


def test_rejection_needs_a_reason_and_allows_resubmission(finished_run, consultant, reviewer):
    version = finished_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    with pytest.raises(ApplicationError, match="say why"):
        version_transition(version=version, action="reject", user=reviewer, reason=" ")
    version_transition(version=version, action="reject", user=reviewer, reason="segment 3 too small")
    assert version_status(version) == "rejected"
    version_transition(version=version, action="submit", user=consultant, reason="merged segment 3")
    assert version_status(version) == "in_review"


def test_an_approved_version_cannot_be_approved_again(finished_run, consultant, reviewer):
    version = finished_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(version=version, action="approve", user=reviewer, reason="ok")
    with pytest.raises(ApplicationError, match="cannot be approved now"):
        version_transition(version=version, action="approve", user=reviewer, reason="again")


def test_status_changes_are_append_only_in_the_database(finished_run, consultant):
    change = version_transition(version=finished_run.version, action="submit", user=consultant, reason="")
    with pytest.raises(DatabaseError), transaction.atomic():
        VersionStatusChange.objects.filter(pk=change.pk).update(status="approved")


def test_the_version_page_shows_status_and_actions_by_role(
    finished_run, consultant, reviewer, outsider, login
):
    version = finished_run.version
    url = reverse("governance:version_detail", args=[version.pk])
    page = login(consultant).get(url).content.decode()
    assert "Submit for review" in page and "Approve" not in page
    version_transition(version=version, action="submit", user=consultant, reason="")
    page = login(reviewer).get(url).content.decode()
    assert "Approve" in page and "In review" in page
    assert login(outsider).get(url).status_code == 404
    assert act(login(outsider), version, "approve").status_code == 404
