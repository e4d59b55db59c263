"""An experiment by segment in a real browser: the consultant designs one on an approved version,
submits it, a reviewer registers it, the consultant downloads the assignment, uploads outcomes with
an effect planted in one segment, and reads it on the analysis page's forest plot; no page logs an
error (a refused inline script or style would)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from experiments.models import Experiment, ExperimentAnalysis
from tests.conftest import ROOT
from tests.experiments.conftest import approved  # noqa: F401  (shared fixture)
from tests.projects.conftest import quick_run  # noqa: F401  (shared fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = ROOT / "var" / "screens"


def _shot(session, label: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    session.page.screenshot(path=str(SCREENS / f"experiment-{session.name}-{label}.png"), full_page=True)


def test_a_registered_experiment_reads_a_planted_effect_in_its_segment(
    open_session,
    approved,  # noqa: F811
    consultant,
    reviewer,
    tmp_path,
):
    version = approved
    me = open_session("consultant")
    me.login(consultant.username)
    me.page.goto(reverse("experiments:version_experiments", args=[version.pk]))
    me.page.fill("#id_name", "Win-back offer")
    me.page.fill("#id_arms", "control:1,treatment:1")
    me.page.fill("#id_seed", "7")
    me.page.fill("#id_metric_name", "spend_after")
    me.page.select_option("#id_metric_kind", "continuous")
    me.page.fill("#id_baseline", "10")
    me.page.fill("#id_sd", "3")
    me.page.fill("#id_mde", "1")
    me.page.click("#design-form button[type=submit]")
    me.page.wait_for_selector("#power")
    assert me.page.locator("#not-registered").count() == 1
    _shot(me, "01-designed")
    me.page.click("#submit-form button")
    me.page.wait_for_selector("#registration-hash")
    experiment = Experiment.objects.get()
    assert (
        experiment.status == "submitted" and me.page.locator("#decide-form").count() == 0
    )  # not the author's

    rita = open_session("reviewer")
    rita.login(reviewer.username)
    rita.page.goto(reverse("experiments:experiment_detail", args=[experiment.pk]))
    rita.page.click("#decide-form button[value=register]")
    rita.page.wait_for_selector("#status.registered")
    _shot(rita, "02-registered")

    me.page.goto(reverse("experiments:experiment_detail", args=[experiment.pk]))
    with me.page.expect_download() as download:
        me.page.click("#design-files a:text-is('assignment.csv')")
    assignment = pd.read_csv(download.value.path(), dtype={"customer_id": str})
    treated = (assignment["arm"] == "treatment") & (assignment["segment"] == 0)
    rng = np.random.default_rng(0)
    outcomes = assignment[["customer_id"]].assign(
        spend_after=rng.normal(10, 3, len(assignment)) + np.where(treated, 6.0, 0.0)
    )
    buffer = io.StringIO()
    outcomes.to_csv(buffer, index=False)
    (tmp_path / "outcomes.csv").write_text(buffer.getvalue())
    me.page.set_input_files("#id_file", str(tmp_path / "outcomes.csv"))
    me.page.fill("#id_metrics", "spend_after")
    me.page.click("#analyse-form button[type=submit]")
    me.page.wait_for_selector("section.metric svg")
    analysis = ExperimentAnalysis.objects.get()
    assert not analysis.exploratory and me.page.locator("#exploratory-banner").count() == 0
    welch = {str(r["segment"]): r for r in analysis.result["effects"] if r["method"] == "welch_t"}
    shown = me.page.locator("section.metric").inner_text()
    assert f"{welch['0']['estimate']:.3g}" in shown  # the planted segment's estimate, as the page rounds it
    assert welch["0"]["ci_low"] > 0 and welch["0"]["p_adjusted"] < 0.01
    _shot(me, "03-analysis")
    assert me.errors == [] and rita.errors == []
