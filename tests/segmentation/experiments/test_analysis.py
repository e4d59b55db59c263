"""analyse(): per-segment effects, the post-stratified overall, Q, Holm/BH and SRM against references."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from segmentation.errors import SegmentationError
from segmentation.experiments.analysis import analyse, correction_from_plan, write_analysis

COLUMNS = [
    "segment", "metric", "arm", "method", "estimate", "ci_low", "ci_high",
    "p_value", "p_adjusted", "n_control", "n_treatment", "exploratory", "registered",
]  # fmt: skip
DESIGN = {
    "arms": [{"name": "control", "ratio": 1}, {"name": "treatment", "ratio": 1}],
    "alpha": 0.05,
    "primary": {"name": "spend", "kind": "continuous", "baseline": 40.0, "sd": 10.0, "mde": 2.0},
    "guardrails": [{"name": "churned", "kind": "binary", "baseline": 0.2, "mde": 0.05}],
    "analysis_plan": "Holm across segments and metrics.",
}


def experiment(seed: int = 5, sizes=(240, 300, 180)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three segments (noise -1 included) with a segment-dependent effect on spend."""
    rng = np.random.default_rng(seed)
    segments = np.repeat([-1, 0, 1], sizes)
    n = len(segments)
    arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    treated = arm == "treatment"
    pre = rng.normal(40, 10, n)
    spend = (
        0.6 * pre
        + rng.normal(16, 8, n)
        + treated * np.select([segments == 0, segments == 1], [3.0, 0.5], 1.0)
    )
    churned = np.where(rng.random(n) < 0.2 - 0.04 * treated, "Yes", "No")
    ids = [f"C-{i:05d}" for i in range(n)]
    assignment = pd.DataFrame({"customer_id": ids, "segment": segments, "arm": arm})
    outcomes = pd.DataFrame(
        {"customer_id": ids, "spend": spend, "churned": churned, "pre": pre, "clicks": rng.poisson(3, n)}
    )
    return assignment, outcomes


def in_segment(assignment, outcomes, segment, metric):
    both = assignment.merge(outcomes, on="customer_id")
    both = both[both["segment"] == segment]
    return both.loc[both["arm"] == "treatment", metric].to_numpy(), both.loc[
        both["arm"] == "control", metric
    ].to_numpy()


@pytest.fixture(scope="module")
def result():
    assignment, outcomes = experiment()
    return assignment, outcomes, analyse(DESIGN, assignment, outcomes, metrics=["spend", "churned", "clicks"])


def test_effects_have_the_contract_columns_and_a_row_per_segment_metric_and_method(result):
    _, _, analysis = result
    effects = analysis.effects
    assert list(effects.columns) == COLUMNS
    methods = effects.groupby("metric")["method"].agg(lambda m: sorted(set(m))).to_dict()
    assert methods == {
        "spend": ["post_stratified", "relative_lift", "welch_t"],
        "churned": ["post_stratified", "relative_lift", "two_proportion_z"],
        "clicks": ["post_stratified", "relative_lift", "welch_t"],
    }
    assert effects.loc[effects["method"] == "welch_t", "segment"].tolist() == [-1, 0, 1] * 2
    assert effects.loc[effects["method"] == "post_stratified", "segment"].tolist() == ["all"] * 3
    # clicks is not in the design's primary or guardrails: exploratory
    assert effects.groupby("metric")["exploratory"].all().to_dict() == {
        "churned": False,
        "clicks": True,
        "spend": False,
    }
    assert (effects["registered"] == ~effects["exploratory"]).all()


def test_segment_effects_are_statsmodels_on_that_segments_customers(result):
    assignment, outcomes, analysis = result
    effects = analysis.effects.set_index(["segment", "metric", "method"])
    for segment in (-1, 0, 1):
        t, c = in_segment(assignment, outcomes, segment, "spend")
        reference = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        row = effects.loc[(segment, "spend", "welch_t")]
        np.testing.assert_allclose(row["p_value"], reference.ttest_ind(usevar="unequal")[1], rtol=1e-10)
        np.testing.assert_allclose(
            [row["ci_low"], row["ci_high"]], reference.tconfint_diff(usevar="unequal"), rtol=1e-10
        )
        assert (row["n_treatment"], row["n_control"]) == (len(t), len(c))
        t, c = in_segment(assignment, outcomes, segment, "churned")
        t, c = (t == "Yes").astype(float), (c == "Yes").astype(float)
        row = effects.loc[(segment, "churned", "two_proportion_z")]
        np.testing.assert_allclose(row["estimate"], t.mean() - c.mean(), rtol=1e-10)
        np.testing.assert_allclose(
            row["p_value"], proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])[1], rtol=1e-10
        )
    assert analysis.mappings == {"churned": {"No": 0, "Yes": 1}}


def test_the_overall_effect_is_the_post_stratified_sum_with_its_normal_interval(result):
    assignment, outcomes, analysis = result
    effects, variances = [], []
    for segment in (-1, 0, 1):
        t, c = in_segment(assignment, outcomes, segment, "spend")
        effects.append(t.mean() - c.mean())
        variances.append(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    w = np.array([240, 300, 180]) / 720  # each segment's share of the experiment's customers
    estimate = np.sum(w * np.array(effects))
    half = stats.norm.ppf(0.975) * np.sqrt(np.sum(w**2 * np.array(variances)))
    overall = analysis.effects[
        (analysis.effects["segment"] == "all") & (analysis.effects["metric"] == "spend")
    ]
    assert len(overall) == 1 and overall["method"].iloc[0] == "post_stratified"
    row = overall.iloc[0]
    np.testing.assert_allclose(row["estimate"], estimate, rtol=1e-10)
    np.testing.assert_allclose(
        [row["ci_low"], row["ci_high"]], [estimate - half, estimate + half], rtol=1e-10
    )
    np.testing.assert_allclose(
        row["p_value"], 2 * stats.norm.sf(abs(estimate) / (half / 1.959963984540054)), rtol=1e-8
    )
    assert (row["n_control"], row["n_treatment"]) == (360, 360)


def test_heterogeneity_is_cochrans_q_by_hand_and_statsmodels_combine_effects(result):
    assignment, outcomes, analysis = result
    effects, variances = [], []
    for segment in (-1, 0, 1):
        t, c = in_segment(assignment, outcomes, segment, "spend")
        effects.append(t.mean() - c.mean())
        variances.append(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    theta, v = np.array(effects), np.array(variances)
    mean = np.sum(theta / v) / np.sum(1 / v)
    q = np.sum((theta - mean) ** 2 / v)
    found = analysis.heterogeneity["spend"]
    np.testing.assert_allclose(found["q"], q, rtol=1e-10)
    reference = combine_effects(theta, v)
    np.testing.assert_allclose(found["q"], reference.q, rtol=1e-10)
    np.testing.assert_allclose(found["i2"], max(0.0, reference.i2), rtol=1e-10, atol=1e-12)
    assert found["df"] == 2 and found["arm"] == "treatment" and found["method"] == "welch_t"
    np.testing.assert_allclose(found["p_value"], stats.chi2.sf(q, 2), rtol=1e-10)


@pytest.mark.parametrize("correction", ["holm", "fdr_bh"])
def test_p_values_are_adjusted_across_segments_and_metrics_within_each_family(correction):
    assignment, outcomes = experiment()
    effects = analyse(
        DESIGN, assignment, outcomes, metrics=["spend", "churned", "clicks"], correction=correction
    ).effects
    difference = effects["method"].isin(["welch_t", "two_proportion_z"])
    assert difference.sum() == 9
    for family in (difference, effects["method"] == "relative_lift", effects["method"] == "post_stratified"):
        expected = multipletests(effects.loc[family, "p_value"], method=correction)[1]
        np.testing.assert_allclose(effects.loc[family, "p_adjusted"], expected, rtol=1e-10)


def test_the_analysis_plan_chooses_the_correction():
    assert correction_from_plan(DESIGN) == "holm"
    assert correction_from_plan({**DESIGN, "analysis_plan": "Benjamini–Hochberg over segments"}) == "fdr_bh"
    assert correction_from_plan({"correction": "fdr_bh"}) == "fdr_bh"


def test_srm_is_scipys_goodness_of_fit_per_segment_and_flags_a_lost_arm():
    assignment, outcomes = experiment(sizes=(400, 400, 400))
    # a third of segment 1's treated customers have no outcome: a mismatch there
    lost = assignment[(assignment["segment"] == 1) & (assignment["arm"] == "treatment")]["customer_id"][::3]
    analysis = analyse(DESIGN, assignment, outcomes[~outcomes["customer_id"].isin(lost)], metrics=["spend"])
    srm = analysis.srm
    assert list(srm.columns) == [
        "segment",
        "arm",
        "expected_share",
        "observed",
        "expected",
        "chi2",
        "p_value",
        "flagged",
    ]
    assert srm["segment"].tolist() == [-1, -1, 0, 0, 1, 1, "all", "all"]
    row = srm[srm["segment"] == 1]
    reference = stats.chisquare([200, 200 - len(lost)], [(400 - len(lost)) / 2] * 2)
    assert row["observed"].tolist() == [200, 200 - len(lost)]
    np.testing.assert_allclose(row["p_value"], reference.pvalue, rtol=1e-10)
    assert srm.groupby("segment", sort=False)["flagged"].first().tolist() == [False, False, True, False]
    assert analysis.to_dict()["srm_flagged"] == ["1"]
    assert analysis.coverage["assigned_without_outcomes"] == len(lost)


def test_srm_expects_the_designs_ratios():
    assignment, outcomes = experiment(sizes=(300, 300, 300))
    assignment["arm"] = np.resize(["control", "control", "a", "b"], len(assignment))
    design = {
        **DESIGN,
        "arms": [{"name": "control", "ratio": 2}, {"name": "a", "ratio": 1}, {"name": "b", "ratio": 1}],
    }
    analysis = analyse(design, assignment, outcomes, metrics=["spend"])
    overall = analysis.srm[analysis.srm["segment"] == "all"]
    assert overall["expected_share"].tolist() == [0.5, 0.25, 0.25]
    np.testing.assert_allclose(overall["p_value"], stats.chisquare([450, 225, 225], [450, 225, 225]).pvalue)
    assert set(analysis.heterogeneity["spend"]["by_arm"]) == {"a", "b"}
    assert set(analysis.effects["arm"]) == {"a", "b"}


def test_customers_not_assigned_or_without_outcomes_are_counted():
    assignment, outcomes = experiment()
    strangers = pd.DataFrame({"customer_id": ["X1", "X2"], "spend": [1.0, 2.0], "churned": ["No", "No"]})
    outcomes = pd.concat([outcomes.iloc[5:], strangers])
    outcomes.loc[outcomes.index[:4], "spend"] = np.nan
    analysis = analyse(DESIGN, assignment, outcomes, metrics=["spend"])
    assert analysis.coverage["outcomes_not_assigned"] == 2
    assert analysis.coverage["assigned_without_outcomes"] == 5
    assert analysis.coverage["analysed"] == 715
    assert analysis.coverage["missing_values"] == {"spend": 4}
    rows = analysis.effects[analysis.effects["method"] == "welch_t"]
    assert (rows["n_control"] + rows["n_treatment"]).sum() == 711


def test_a_segment_with_one_customer_in_an_arm_has_a_missing_estimate_and_a_reason():
    assignment, outcomes = experiment()
    tiny = pd.DataFrame(
        {"customer_id": ["T1", "T2", "T3"], "segment": 7, "arm": ["control", "control", "treatment"]}
    )
    analysis = analyse(
        DESIGN,
        pd.concat([assignment, tiny]),
        pd.concat([outcomes, pd.DataFrame({"customer_id": ["T1", "T2", "T3"], "spend": [1.0, 2.0, 3.0]})]),
        metrics=["spend"],
    )
    row = analysis.effects[
        (analysis.effects["segment"] == 7) & (analysis.effects["method"] == "welch_t")
    ].iloc[0]
    assert np.isnan(row["estimate"]) and np.isnan(row["p_adjusted"]) and row["n_treatment"] == 1
    reasons = {(m["segment"], m["method"]): m["reason"] for m in analysis.missing}
    assert reasons[("7", "welch_t")] == "fewer than 2 customers with an outcome in the treatment arm"
    assert "segments 7 have no estimate" in reasons[("all", "post_stratified")]
    assert analysis.heterogeneity["spend"]["df"] == 2


def test_cuped_rows_and_their_adjustment_with_a_covariate():
    assignment, outcomes = experiment()
    analysis = analyse(DESIGN, assignment, outcomes, metrics=["spend"], covariate="pre")
    effects = analysis.effects
    cuped = effects[effects["method"] == "cuped_welch_t"]
    raw = effects[effects["method"] == "welch_t"]
    assert cuped["segment"].tolist() == [-1, 0, 1]
    assert (
        (cuped["ci_high"] - cuped["ci_low"]).to_numpy() < (raw["ci_high"] - raw["ci_low"]).to_numpy()
    ).all()
    both = assignment.merge(outcomes, on="customer_id")
    zero = both[both["segment"] == 0]
    assert analysis.cuped["spend"]["0"]["rho"] == pytest.approx(np.corrcoef(zero["spend"], zero["pre"])[0, 1])
    assert analysis.heterogeneity["spend"]["method"] == "cuped_welch_t"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"metrics": ["revenue"]},
            r"The outcomes have no column 'revenue' \(their columns: 'spend', 'churned'",
        ),
        ({"covariate": "before"}, "The outcomes have no column 'before'"),
        (
            {"design": {**DESIGN, "arms": [*DESIGN["arms"], {"name": "b", "ratio": 1}]}},
            "The arm 'b' of the design has no customers",
        ),
        ({"design": {**DESIGN, "arms": DESIGN["arms"][:1]}}, "at least two arms"),
        ({"alpha": 1.5}, "alpha must be between 0 and 1"),
        ({"correction": "bonferroni"}, "holm or fdr_bh"),
    ],
)
def test_unusable_inputs_are_clear_errors(change, message):
    assignment, outcomes = experiment()
    arguments = {"design": DESIGN, "metrics": ["spend"], **change}
    design = arguments.pop("design")
    with pytest.raises(SegmentationError, match=message):
        analyse(design, assignment, outcomes, **arguments)


def test_an_arm_not_in_the_design_and_repeated_ids_are_errors():
    assignment, outcomes = experiment()
    with pytest.raises(
        SegmentationError, match=r"the arm 'treatmnt', not in the design \(control, treatment\)"
    ):
        analyse(DESIGN, assignment.replace({"arm": {"treatment": "treatmnt"}}), outcomes, metrics=["spend"])
    with pytest.raises(
        SegmentationError,
        match=r"Customer ids repeat in the outcomes \(1 extra row, e\.g\. 'C-00000'\): each customer needs one row\.",
    ):
        analyse(DESIGN, assignment, pd.concat([outcomes, outcomes.iloc[:1]]), metrics=["spend"])


def test_write_analysis_writes_the_tables_and_json_without_nans(tmp_path):
    assignment, outcomes = experiment()
    tiny = pd.DataFrame({"customer_id": ["T1"], "segment": 7, "arm": ["control"]})
    analysis = analyse(
        DESIGN,
        pd.concat([assignment, tiny]),
        pd.concat([outcomes, pd.DataFrame({"customer_id": ["T1"], "spend": [1.0], "churned": ["No"]})]),
        metrics=["spend", "churned"],
    )
    paths = write_analysis(analysis, tmp_path / "analysis")
    assert [p.name for p in paths] == ["effects.csv", "srm.csv", "analysis.json"]
    effects = pd.read_csv(paths[0])
    assert list(effects.columns) == COLUMNS and len(effects) == len(analysis.effects)
    np.testing.assert_allclose(effects["p_value"], analysis.effects["p_value"], rtol=1e-12)
    data = json.loads(paths[2].read_text())
    assert data["format"] == "segplatform.analysis/1" and data["mappings"] == {"churned": {"No": 0, "Yes": 1}}
    missing_row = next(r for r in data["effects"] if r["segment"] == 7 and r["method"] == "welch_t")
    assert missing_row["estimate"] is None and missing_row["n_treatment"] == 0
    assert pd.read_csv(paths[1])["segment"].astype(str).tolist()[-2:] == ["all", "all"]


def test_registered_metrics_given_explicitly_decide_what_is_exploratory():
    assignment, outcomes = experiment()
    effects = analyse(
        DESIGN, assignment, outcomes, metrics=["spend", "clicks"], registered_metrics=["clicks"]
    ).effects
    assert effects.groupby("metric")["exploratory"].all().to_dict() == {"clicks": False, "spend": True}
    effects = analyse({"arms": DESIGN["arms"]}, assignment, outcomes, metrics=["spend", "clicks"]).effects
    assert not effects["exploratory"].any()


def test_segments_read_as_text_are_numbers_and_other_text_is_an_error():
    assignment, outcomes = experiment()
    as_text = analyse(DESIGN, assignment.astype({"segment": str}), outcomes, metrics=["spend"]).effects
    pd.testing.assert_frame_equal(as_text, analyse(DESIGN, assignment, outcomes, metrics=["spend"]).effects)
    with pytest.raises(SegmentationError, match=r"segments are whole numbers \(-1 for noise\), not 'north'"):
        analyse(DESIGN, assignment.assign(segment="north"), outcomes, metrics=["spend"])


def test_a_metric_without_values_or_named_like_an_assignment_column_is_an_error():
    assignment, outcomes = experiment()
    with pytest.raises(SegmentationError, match="The metric 'spend' has no values"):
        analyse(DESIGN, assignment, outcomes.assign(spend=np.nan), metrics=["spend"])
    with pytest.raises(SegmentationError, match="cannot be called 'segment'"):
        analyse(DESIGN, assignment, outcomes.assign(segment=1.0), metrics=["segment"])
    # other columns of the outcomes, even one called arm, are not read
    effects = analyse(DESIGN, assignment, outcomes.assign(arm="x"), metrics=["spend"]).effects
    assert len(effects) == 7


def test_small_p_values_keep_their_precision_in_the_json():
    assignment, outcomes = experiment()
    outcomes = outcomes.assign(spend=outcomes["spend"] + 4 * (assignment["arm"] == "treatment"))
    data = analyse(DESIGN, assignment, outcomes, metrics=["spend"]).to_dict()
    overall = next(r for r in data["effects"] if r["segment"] == "all")
    assert 0 < overall["p_value"] < 1e-10  # rounded to 10 decimals it would be 0
