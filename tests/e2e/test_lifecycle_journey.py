"""The lifecycle of a log in a real browser: uploaded, run on the worker with the run form's
defaults, the results page shows lifetime value by segment, the cohort heatmap, the state diagram
and the likely movers, each figure the one stored; movers.csv downloads; no console errors."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.segmentation.lifecycle.simulated_log import simulated_log

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = ROOT / "var" / "screens"


def test_the_results_page_shows_the_lifecycle_of_a_log(
    celery_worker, open_session, project, consultant, tmp_path
):
    from projects.models import SegmentationRun

    me = open_session("lifecycle")
    page = me.page
    me.login(consultant.username)
    path = tmp_path / "orders.csv"
    simulated_log(400, seed=12).to_csv(path, index=False)
    page.goto(f"/projects/{project.pk}/datasets/upload/")
    page.set_input_files("#id_file", str(path))
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/runs/new/\?dataset=\d+$"))
    assert page.is_checked("input[name=input_kind][value=transactions]")
    page.fill("#id_k_max", "4")
    page.fill("#id_stability_resamples", "0")
    page.wait_for_function(
        "() => document.querySelector('#spec-summary').textContent.includes('Lifetime value over 365 days')"
    )
    page.click("button:has-text('Start run')")
    page.wait_for_selector("#lifecycle", timeout=240_000)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.locator("#lifecycle").screenshot(path=str(SCREENS / "lifecycle-section.png"))

    version = SegmentationRun.objects.get().version
    lifecycle = version.metrics["lifecycle"]
    rows = page.locator("#lifecycle-clv tbody tr")
    assert rows.count() >= len(lifecycle["clv"]["by_segment"])
    states = lifecycle["states"]
    circles = page.locator("#lifecycle-states svg circle")
    assert circles.count() == len(states["names"])
    text = page.inner_text("#lifecycle-states")
    assert all(name in text for name in states["names"])
    cohorts = lifecycle["cohorts"]
    heat = page.locator("#lifecycle-cohorts table").first
    assert heat.locator("tbody tr").count() == len(cohorts["cohorts"])

    movers = page.locator("#lifecycle-movers")
    assert f"{lifecycle['movers']['customers']:,}" in movers.inner_text()
    link = movers.locator("#lifecycle-movers-download")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    table = pd.read_csv(io.BytesIO(response.body()))
    assert list(table.columns) == ["customer_id", "segment", "state", "target", "probability"]
    assert len(table) == lifecycle["movers"]["customers"]
    assert not me.errors, me.errors
