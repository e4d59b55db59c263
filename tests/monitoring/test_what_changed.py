"""A retrained version's deck and report say what changed: why the refresh retrained (the check's
date and level, the drifted features, the segment shares) and what differs from the deployed
version. One refresh with drift and one retraining run, executed in-process as the worker would.
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from django.urls import reverse
from scipy.optimize import linear_sum_assignment

from governance.selectors import version_model
from monitoring.document import TEST_NAMES
from monitoring.models import MonitoringCheck, Refresh
from monitoring.refresh_jobs import refresh_execute
from reports.services import version_content
from runs.services import run_execute
from segmentation.compare import scored_labels
from tests.reports.helpers import assert_tables_fit, assert_text_fits, pdf_text, slide_texts

pytestmark = pytest.mark.django_db


def _documents(client, version, tmp_path) -> tuple[list[tuple[str, str]], str]:  # type: ignore[no-untyped-def]
    """The deck's slides (title, text) in order and the PDF's text, from the portal's download."""
    response = client.get(reverse("reports:version_deliverables_zip", args=[version.pk]))
    assert response.status_code == 200, response.content[:300]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    deck = tmp_path / f"{version.label}.pptx"
    deck.write_bytes(archive.read("deck.pptx"))
    assert_text_fits(deck)  # the new slide's text and table stay on the slide
    assert_tables_fit(deck)
    return list(slide_texts(deck).items()), pdf_text(io.BytesIO(archive.read("report.pdf")))


def _share(value: float) -> str:
    return f"{round(value * 100, 1):.1f}%"


def _moved(deployed, retrained) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Customers of the retraining data whose new segment is not the Hungarian match of their old one."""
    table = retrained.run.dataset.read_table()
    old = scored_labels(version_model(deployed), table)
    new = scored_labels(version_model(retrained), table)
    joined = old.merge(new, on="customer_id", suffixes=("_old", "_new"))
    counts = pd.crosstab(joined["segment_old"], joined["segment_new"])
    counts = counts.loc[counts.index >= 0, counts.columns >= 0].to_numpy()
    rows, columns = linear_sum_assignment(counts, maximize=True)
    return len(joined) - int(counts[rows, columns].sum()), len(joined)


def test_a_retrained_version_says_what_changed_and_an_ordinary_one_does_not(
    deployed, admin, consultant, login, client_database, tmp_path
):
    login(admin).post(
        reverse("monitoring:lineage_source", args=[deployed.pk]),
        {"url": client_database, "table": "public.customers", "query": ""},
    )
    client = login(consultant)
    client.post(reverse("monitoring:lineage_refresh", args=[deployed.pk]))
    refresh_execute(Refresh.objects.get().pk)  # as the worker would
    check = MonitoringCheck.objects.get()
    assert check.overall_level == "drift"
    origin = check.retraining_run.origin
    assert origin["kind"] == "retraining" and origin["deployed_version"] == deployed.pk
    assert origin["check"] == check.pk and origin["deployed_label"] == deployed.label

    retrained = run_execute(run_id=check.retraining_run.pk).version  # as the worker would
    assert retrained.parent == deployed  # the version page's diff compares with the deployed one

    slides, pdf = _documents(client, retrained, tmp_path)
    titles = [title for title, _ in slides]
    assert titles.index("What changed") == titles.index("Executive summary") + 1
    slide = dict(slides)["What changed"]
    drift = check.result
    avg_basket = next(f for f in drift["features"] if f["feature"] == "avg_basket")
    checked = f"{check.created_at.day} {check.created_at:%B %Y}"
    moved, common = _moved(deployed, retrained)
    k_old, k_new = deployed.metrics["selected"]["k"], retrained.metrics["selected"]["k"]
    expected = [
        f"A refresh on {checked} found drift in the data of the deployed version {deployed.label} "
        f"(check {check.pk})",
        f"Avg basket: drift ({TEST_NAMES[avg_basket['test']]}, statistic {avg_basket['statistic']:.3g}).",
        f"Segments (k): {k_old} in {deployed.label}, {k_new} in {retrained.label}",
        f"{moved:,} of {common:,} ({moved / common:.1%})",
    ]
    for text in expected:
        assert text in slide, text
    for row in drift["segment_shares"]["segments"]:
        assert (
            f"{row['segment']} {row['name']} {_share(row['reference_share'])} {_share(row['current_share'])}"
            in slide
        )

    assert "What changed" in pdf and pdf.index("What changed") < pdf.index("Data and method")
    for text in [*expected, *(_share(r["current_share"]) for r in drift["segment_shares"]["segments"])]:
        assert text in pdf, text

    ordinary_slides, ordinary_pdf = _documents(client, deployed, tmp_path)
    assert "What changed" not in [title for title, _ in ordinary_slides]
    assert "What changed" not in ordinary_pdf and "Why it was retrained" not in ordinary_pdf

    # A deployed version gone from the platform: the section says the comparison cannot be made.
    run = retrained.run
    run.origin = {**run.origin, "deployed_version": 0}
    run.save(update_fields=["origin"])
    section = version_content(retrained).what_changed
    assert section is not None and "Avg basket: drift" in section.text
    assert (
        f"The comparison with {deployed.label} could not be computed: {deployed.label} is no longer on the platform."
        in section.text
    )
