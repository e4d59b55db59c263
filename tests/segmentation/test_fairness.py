"""The bias audit against fairlearn's metrics computed directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio

from segmentation.protection.fairness import BIAS_COLUMNS, bias_audit, bias_table, proxy_check


def skewed(n: int = 600, seed: int = 0) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Segments driven by a feature that is itself correlated with gender."""
    rng = np.random.default_rng(seed)
    gender = rng.choice(["F", "M"], n)
    band = rng.choice(["18-34", "35-54", "55+"], n)
    features = pd.DataFrame(
        {"spend": rng.normal(size=n) + (gender == "F") * 1.5, "visits": rng.normal(size=n)}
    )
    segments = pd.Series(np.where(features["spend"] > 0.7, 1, 0) + np.where(features["visits"] > 1, 1, 0))
    return segments, pd.DataFrame({"gender": gender, "age_band": band}), features


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parity_difference_and_ratio_equal_fairlearn_for_each_segment(seed):
    segments, protected, _ = skewed(seed=seed)
    table = bias_table(segments, protected)
    assert list(table.columns) == BIAS_COLUMNS
    for (attribute, segment), rows in table.groupby(["attribute", "segment"]):
        member = (segments == segment).astype(int)
        expected_difference = demographic_parity_difference(
            member, member, sensitive_features=protected[attribute]
        )
        expected_ratio = demographic_parity_ratio(member, member, sensitive_features=protected[attribute])
        assert rows["demographic_parity_difference"].unique() == pytest.approx([expected_difference])
        assert rows["demographic_parity_ratio"].unique() == pytest.approx([expected_ratio])


def test_segment_share_is_the_fraction_of_the_group_in_the_segment():
    segments, protected, _ = skewed()
    table = bias_table(segments, protected)
    row = table[(table["attribute"] == "gender") & (table["segment"] == 1) & (table["group"] == "F")].iloc[0]
    women = protected["gender"] == "F"
    assert row["group_size"] == women.sum()
    assert row["segment_share"] == pytest.approx((segments[women] == 1).mean())
    # shares over segments add up to one per group; group shares of a segment add up to one too
    shares = table[(table["attribute"] == "gender") & (table["group"] == "F")]["segment_share"].sum()
    assert shares == pytest.approx(1.0)
    composition = table[(table["attribute"] == "gender") & (table["segment"] == 1)]["share_of_segment"].sum()
    assert composition == pytest.approx(1.0)


def test_the_four_fifths_rule_flags_an_under_represented_group():
    segments = pd.Series([1] * 50 + [0] * 50 + [1] * 20 + [0] * 80)
    protected = pd.DataFrame({"gender": ["F"] * 100 + ["M"] * 100})
    table = bias_table(segments, protected)
    flagged = table[table["four_fifths_flag"]]
    # segment 1: F 50%, M 20% -> M flagged (0.4 < 0.8); segment 0: F 50%, M 80% -> F flagged (0.625)
    assert set(zip(flagged["segment"], flagged["group"], strict=True)) == {(1, "M"), (0, "F")}


def test_the_proxy_check_names_the_feature_that_encodes_gender():
    _, protected, features = skewed()
    proxies = proxy_check(features, protected)
    assert proxies["gender"]["auc"] > 0.75
    assert proxies["gender"]["proxies"][0]["feature"] == "spend"
    assert proxies["age_band"]["auc"] < 0.6


def test_findings_are_plain_language_with_mitigations():
    segments, protected, features = skewed()
    _, findings = bias_audit(segments, protected, features)
    text = " ".join(findings["findings"])
    assert "four-fifths" in text and "spend" in text
    assert findings["mitigation_options"]
    assert findings["protected_columns"] == ["gender", "age_band"]


def test_missing_group_values_form_their_own_group():
    table = bias_table(pd.Series([0, 1, 0, 1]), pd.DataFrame({"g": ["a", None, "a", ""]}))
    assert set(table["group"]) == {"a", "(missing)"}


def test_a_category_that_encodes_gender_is_found_as_a_proxy_as_scikit_learn_scores_it():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(5)
    n = 600
    gender = rng.choice(["F", "M"], n)
    plan = np.where(
        rng.random(n) < 0.85,
        np.where(gender == "F", "family", "sport"),
        rng.choice(["family", "sport", "basic"], n),
    )
    features = pd.DataFrame({"spend": rng.gamma(2.0, 50.0, n), "plan": plan})
    proxies = proxy_check(features, pd.DataFrame({"gender": gender}))["gender"]
    assert proxies["features_used"] == ["plan", "spend"]
    assert proxies["proxies"][0]["feature"] == "plan"
    x = np.column_stack([features["spend"], pd.get_dummies(features["plan"], dtype=float).to_numpy()])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    reference = cross_val_score(
        model, x, gender, cv=StratifiedKFold(5, shuffle=True, random_state=0), scoring="roc_auc"
    )
    assert proxies["auc"] == pytest.approx(reference.mean())
    assert proxies["auc"] > 0.8 and proxies["auc_low"] < proxies["auc"] < proxies["auc_high"]


def test_a_parity_gap_comes_with_a_bootstrap_interval_that_narrows_with_more_customers():
    from segmentation.protection.fairness import parity_difference_intervals

    def width(n: int) -> float:
        rng = np.random.default_rng(n)
        labels, groups = rng.integers(0, 3, n), rng.choice(["a", "b"], n)
        table = bias_table(labels, pd.DataFrame({"g": groups}))
        row = table[table["segment"] == 0].iloc[0]
        assert row["demographic_parity_difference_low"] <= row["demographic_parity_difference"]
        assert row["demographic_parity_difference"] <= row["demographic_parity_difference_high"]
        low, high = parity_difference_intervals(labels, groups)[0]
        assert (low, high) == (
            row["demographic_parity_difference_low"],
            row["demographic_parity_difference_high"],
        )
        return high - low

    assert width(200) > 5 * width(20_000)  # about sqrt(100) = 10 times wider
