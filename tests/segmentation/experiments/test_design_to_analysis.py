"""design.json from part 1 (design) read by analyse(): arms, ratios, metric kinds and the plan's correction.

Skipped until segmentation.experiments.design is on the branch (the two parts are built side by side).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmentation.experiments.analysis import analyse, correction_from_plan

design_module = pytest.importorskip("segmentation.experiments.design")
power_module = pytest.importorskip("segmentation.experiments.power")


def test_an_experiment_designed_then_analysed_end_to_end(tmp_path):
    from segmentation.experiments.arms import parse_arms

    rng = np.random.default_rng(15)
    n = 1_200
    labels = pd.DataFrame({"customer_id": [f"id-{i}" for i in range(n)], "segment": rng.integers(-1, 3, n)})
    spec = design_module.DesignSpec(
        arms=parse_arms("control:1,treatment:2"),
        primary=power_module.Metric("spend", "continuous", 40.0, sd=10.0, mde=2.0),
        guardrails=(power_module.Metric("churned", "binary", 0.2, mde=0.05),),
        covariate="pre",
        rho=0.6,
        analysis_plan="Benjamini-Hochberg across segments and metrics",
    )
    made = design_module.design(labels, spec, version_hash="0123abcd")
    written = json.loads(json.dumps(made.to_dict()))  # as read back from design.json
    assignment = made.assignment
    outcomes = pd.DataFrame(
        {
            "customer_id": assignment["customer_id"],
            "spend": rng.normal(40, 10, n),
            "churned": rng.choice(["Yes", "No"], n, p=[0.2, 0.8]),
            "visits": rng.poisson(4, n),
            "pre": rng.normal(size=n),
        }
    )
    analysis = analyse(
        written,
        assignment,
        outcomes,
        metrics=["spend", "churned", "visits"],
        covariate=written["covariate"],
        correction=correction_from_plan(written),
    )
    assert analysis.correction == "fdr_bh" and analysis.alpha == written["alpha"]
    overall = analysis.srm[analysis.srm["segment"] == "all"]
    assert overall["expected_share"].round(6).tolist() == [round(1 / 3, 6), round(2 / 3, 6)]
    counts = assignment["arm"].value_counts()
    np.testing.assert_allclose(
        overall["p_value"].iloc[0],
        stats.chisquare([counts["control"], counts["treatment"]], [n / 3, 2 * n / 3]).pvalue,
        rtol=1e-10,
    )
    # blocked assignment keeps every segment's counts within one block of the ratio: no mismatch
    assert not analysis.srm["flagged"].any()
    effects = analysis.effects
    assert set(effects.loc[effects["metric"] == "churned", "method"]) >= {"two_proportion_z"}
    assert effects.groupby("metric")["exploratory"].all().to_dict() == {
        "churned": False,
        "spend": False,
        "visits": True,
    }
