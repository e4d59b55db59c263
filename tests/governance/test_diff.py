"""Comparing two versions: spec, k, centroids and the migration matrix of customers."""

from __future__ import annotations

from django.urls import reverse

from governance.diff import version_diff_context
from tests.projects.helpers import NUMERIC, rerun


def second_version(finished_run, consultant, **spec_changes):  # type: ignore[no-untyped-def]
    return rerun(finished_run, consultant, **spec_changes).version


def test_the_diff_lists_spec_changes_k_and_a_migration_matrix(finished_run, consultant):
    old = finished_run.version
    new = second_version(finished_run, consultant, k_min=3, k_max=3, numeric_columns=NUMERIC[:3])

    diff = version_diff_context(old, new)

    keys = {c["key"] for c in diff["spec_changes"]}
    assert keys == {"k_min", "k_max", "numeric_columns"}
    assert diff["selected"]["new"]["k"] == 3
    assert diff["same_data"] is True
    counts = diff["migration"]["counts"]
    assert sum(map(sum, counts)) == 300  # every customer appears once
    # A density winner may leave customers unassigned: noise (-1) is a row of its own.
    assert len([s for s in diff["migration"]["new_segments"] if s != -1]) == 3
    assert len(diff["centroid_changes"]) == 3
    assert set(diff["centroid_changes"][0]["shift"]) == set(NUMERIC[:3])


def test_the_version_page_shows_the_comparison(finished_run, consultant, login):
    new = second_version(finished_run, consultant, k_min=3, k_max=3)
    url = reverse("governance:version_detail", args=[new.pk])
    page = login(consultant).get(url, {"compare": finished_run.version.pk}).content.decode()
    assert "Customer migration" in page and "both versions labelled the same data" in page
    assert "v1 → v2" in page
