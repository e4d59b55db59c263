"""A consultant renames segments and edits their actions before submitting: through the portal and
the API, unique within the version, the model and hash untouched, shown in the diff, audited in
words, refused after submission and refused to a reviewer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.wording import action_label
from governance.diff import version_diff_context
from governance.lifecycle import version_transition
from governance.presentation import feature_label, presented_segments
from projects.access import CAN
from projects.models import Membership
from tests.projects.helpers import rerun

pytestmark = pytest.mark.django_db


def _names_form(version, changes=None):  # type: ignore[no-untyped-def]
    """The form as the version page fills it, with ``changes`` ({segment: name}) typed in."""
    data = {}
    for segment in presented_segments(version):
        data[f"name_{segment.segment}"] = (changes or {}).get(segment.segment, segment.name)
        data[f"actions_{segment.segment}"] = segment.actions_text
    return data


def test_a_consultant_renames_a_segment_on_the_version_page_uniquely_and_the_hash_stays(
    quick_run, consultant, login
):
    # given a draft version and its consultant on the version page
    version = quick_run.version
    before = (version.version_hash, version.model_sha256, version.profile)
    first = presented_segments(version)[0]
    client = login(consultant)
    page = client.get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert "Names and actions" in page and f'value="{first.name}"' in page

    # when they rename the first segment and rewrite its actions
    form = _names_form(version, {first.segment: "Weekend regulars"})
    form[f"actions_{first.segment}"] = "Call them on Saturdays\n\nSend the weekend catalogue"
    response = client.post(reverse("governance:version_names", args=[version.pk]), form)

    # then the page shows the new name, the suggestion beside it, and the version is unchanged
    assert response.status_code == 302
    page = client.get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert 'value="Weekend regulars"' in page and f"Suggested: {first.name}" in page
    renamed = presented_segments(version)[0]
    assert renamed.actions == ("Call them on Saturdays", "Send the weekend catalogue")
    version.refresh_from_db()
    assert (version.version_hash, version.model_sha256, version.profile) == before

    # and the audit trail says it in words
    event = AuditEvent.objects.get(action="version.rename")
    assert event.details["renamed"] == [
        {"segment": first.segment, "from": first.name, "to": "Weekend regulars"}
    ]
    assert action_label("version.rename") == "renamed segments or changed their actions"
    project_page = client.get(reverse("runs:project", args=[version.project_id])).content.decode()
    assert "Renamed segments or changed their actions" in project_page

    # and a second segment cannot take the same name: the form says so beside its field
    second = presented_segments(version)[1]
    form = _names_form(version, {second.segment: "WEEKEND REGULARS"})
    response = client.post(reverse("governance:version_names", args=[version.pk]), form)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Two segments cannot both be called WEEKEND REGULARS" in page
    assert f'id="name_{second.segment}_error"' in page
    assert [s.name for s in presented_segments(version)][:2] == ["Weekend regulars", second.name]


def test_the_api_renames_and_refuses_duplicates_blanks_unknown_segments_reviewers_and_late_changes(
    quick_run, consultant, reviewer, api, login
):
    version = quick_run.version
    first, second = presented_segments(version)[:2]
    url = f"/api/v1/versions/{version.pk}/names/"
    client = api(consultant)

    response = client.post(
        url,
        {"segments": [{"segment": first.segment, "name": "Big spenders", "actions": ["Thank them"]}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version_hash"] == version.version_hash
    assert body["segments"][0] | {"edited_at": None} == {
        "segment": first.segment,
        "name": "Big spenders",
        "actions": ["Thank them"],
        "suggested_name": first.name,
        "suggested_actions": list(first.actions),
        "renamed": True,
        "edited_by": consultant.username,
        "edited_at": None,
    }

    refusals = {
        "Two segments cannot both be called big spenders": [
            {"segment": second.segment, "name": "big  spenders"}
        ],
        f"give segment {second.segment} a name": [{"segment": second.segment, "name": "  "}],
        f"{version.label} has no segment 99": [{"segment": 99, "name": "Ghosts"}],
    }
    for message, segments in refusals.items():
        response = client.post(url, {"segments": segments}, format="json")
        assert response.status_code == 400, response.content
        assert message in response.json()["error"]["message"]
    assert [s.name for s in presented_segments(version)][:2] == ["Big spenders", second.name]

    # a reviewer may not rename, through the API or the portal
    response = api(reviewer).post(
        url, {"segments": [{"segment": second.segment, "name": "Mine"}]}, format="json"
    )
    assert response.status_code == 403
    assert Membership.Role.REVIEWER not in CAN["name_segments"]
    portal = login(reviewer).post(
        reverse("governance:version_names", args=[version.pk]), _names_form(version)
    )
    assert portal.status_code == 403

    # and once the version is submitted, nobody may
    version_transition(version=version, action="submit", user=consultant, reason="")
    response = client.post(url, {"segments": [{"segment": second.segment, "name": "Late"}]}, format="json")
    assert response.status_code == 400
    assert "can be changed only while a version is a draft" in response.json()["error"]["message"]
    page = login(consultant).get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    assert "Names and actions are fixed once the version is submitted." in page
    assert 'name="name_' not in page
    assert [s.name for s in presented_segments(version)][:2] == ["Big spenders", second.name]


def test_the_diff_lists_renamed_segments(quick_run, consultant, api):
    old = quick_run.version
    new = rerun(quick_run, consultant, k_min=2, k_max=2).version
    renamed = presented_segments(new)[0]
    api(consultant).post(
        f"/api/v1/versions/{new.pk}/names/",
        {"segments": [{"segment": renamed.segment, "name": "Weekend regulars"}]},
        format="json",
    )

    diff = version_diff_context(old, new)

    assert diff["renamed_segments"] == [
        {"version": "v2", "segment": renamed.segment, "old": renamed.name, "new": "Weekend regulars"}
    ]
    assert any(c["name"] == "Weekend regulars" for c in diff["centroid_changes"])
    api_diff = api(consultant).get(f"/api/v1/versions/{new.pk}/diff/", {"against": old.pk}).json()
    assert api_diff["renamed"] == diff["renamed_segments"]


def test_the_project_sets_industry_and_column_labels_and_the_run_form_follows(
    quick_run, consultant, make_user, login
):
    project = quick_run.project
    admin = make_user("ada")
    Membership.objects.create(user=admin, project=project, role=Membership.Role.ADMIN)
    column = quick_run.dataset.numeric_columns[0]
    url = reverse("governance:project_presentation", args=[project.pk])

    # a consultant labels columns but cannot change the industry
    login(consultant).post(url, {"industry": "saas", "column_1": column, "label_1": "Basket in rand"})
    project.refresh_from_db()
    assert project.industry == "retail" and feature_label(project, column) == "Basket in rand"

    # an administrator chooses the industry; the run form starts from it
    client = login(admin)
    client.post(url, {"industry": "subscription"})
    project.refresh_from_db()
    assert project.industry == "subscription"
    form = client.get(reverse("runs:run_new", args=[project.pk])).content.decode()
    assert '<option value="subscription" selected>' in form
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "project.industry",
        "project.column_label",
    }
    assert feature_label(project, "MonthlyCharges") == "Monthly charges"
