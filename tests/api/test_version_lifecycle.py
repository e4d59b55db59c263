"""A version's lifecycle through the API: the governance service decides, the API reports."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from projects.models import Membership
from tests.api.test_api import assert_error

pytestmark = pytest.mark.django_db


def step(client, version, action, reason=None):  # type: ignore[no-untyped-def]
    body = {} if reason is None else {"reason": reason}
    return client.post(f"/api/v1/versions/{version.pk}/{action}/", body, format="json")


def test_a_consultant_submits_and_a_reviewer_approves_then_retires_with_audit_events(
    finished_run, consultant, reviewer, api
):
    version = finished_run.version
    assert api(consultant).get(f"/api/v1/versions/{version.pk}/").json()["status"] == "draft"

    submitted = step(api(consultant), version, "submit")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "in_review" and submitted.json()["actor"] == consultant.username

    approved = step(api(reviewer), version, "approve", "Segments are stable and fair.")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert (body["status"], body["actor"], body["reason"]) == (
        "approved",
        "rita",
        "Segments are stable and fair.",
    )
    assert body["created_at"]
    assert api(consultant).get(f"/api/v1/versions/{version.pk}/").json()["status"] == "approved"

    no_reason = step(api(reviewer), version, "retire")
    assert list(assert_error(no_reason, 400, "invalid")["fields"]) == ["reason"]
    assert step(api(reviewer), version, "retire", "Superseded by v2.").json()["status"] == "retired"

    events = AuditEvent.objects.filter(
        object_id=str(version.pk), action__in=["version.submit", "version.approve", "version.retire"]
    )
    assert [(e.action, e.actor.username) for e in events.order_by("id")] == [
        ("version.submit", consultant.username),
        ("version.approve", "rita"),
        ("version.retire", "rita"),
    ]


def test_a_reviewer_rejects_with_a_reason_and_the_consultant_resubmits(
    finished_run, consultant, reviewer, api
):
    version = finished_run.version
    step(api(consultant), version, "submit")
    assert "reason" in assert_error(step(api(reviewer), version, "reject", "  "), 400, "invalid")["fields"]
    assert step(api(reviewer), version, "reject", "Segment 2 is too small.").json()["status"] == "rejected"
    assert step(api(consultant), version, "submit").json()["status"] == "in_review"


def test_a_consultant_cannot_approve_and_is_told_who_may(finished_run, consultant, api):
    version = finished_run.version
    step(api(consultant), version, "submit")
    error = assert_error(step(api(consultant), version, "approve", "mine is fine"), 400, "invalid")
    assert "reviewer" in error["message"] and "approve" in error["message"]
    assert not AuditEvent.objects.filter(action="version.approve").exists()


def test_an_author_with_the_reviewing_role_cannot_approve_their_own_version(finished_run, consultant, api):
    version = finished_run.version
    step(api(consultant), version, "submit")
    Membership.objects.filter(user=consultant, project=version.project).update(role=Membership.Role.ADMIN)
    error = assert_error(step(api(consultant), version, "approve"), 400, "invalid")
    assert "nobody reviews their own work" in error["message"]


def test_a_step_the_status_does_not_allow_is_refused(finished_run, reviewer, api):
    error = assert_error(step(api(reviewer), finished_run.version, "approve"), 400, "invalid")
    assert "draft" in error["message"]


def test_a_non_member_gets_a_404_and_changes_nothing(finished_run, consultant, outsider, api):
    version = finished_run.version
    step(api(consultant), version, "submit")
    for action in ("submit", "approve", "reject", "retire"):
        assert_error(step(api(outsider), version, action, "because"), 404, "not_found")
    assert (
        not AuditEvent.objects.filter(actor=outsider)
        .exclude(project__isnull=True)
        .filter(project=version.project)
        .exists()
    )
