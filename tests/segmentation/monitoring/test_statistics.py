"""Every statistic of a monitoring pass is scipy's or statsmodels' on the same arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.proportion import proportions_ztest

from segmentation.errors import SegmentationError
from segmentation.monitoring.features import EMPTY_SHARE, feature_test
from segmentation.monitoring.levels import Thresholds
from segmentation.monitoring.refit import matched
from segmentation.monitoring.segments import segment_shares

rng = np.random.default_rng(7)


def test_small_numeric_samples_get_scipys_kolmogorov_smirnov():
    a, b = rng.lognormal(3, 1, 400), rng.lognormal(3.2, 1, 300)
    result = feature_test("spend", pd.Series(a), pd.Series(b))
    reference = stats.ks_2samp(a, b)
    assert (result.test, result.kind) == ("ks", "numeric")
    assert result.statistic == pytest.approx(reference.statistic) and result.p_value == pytest.approx(
        reference.pvalue
    )


def test_large_numeric_samples_get_the_wasserstein_distance_normed_by_the_reference_spread():
    a, b = rng.normal(10, 2, 5_000), rng.normal(10.5, 2, 4_000)
    result = feature_test("spend", pd.Series(a), pd.Series(b))
    assert result.test == "wasserstein_normed" and result.p_value is None
    assert result.statistic == pytest.approx(stats.wasserstein_distance(a, b) / np.std(a))


def test_psi_bins_at_the_reference_deciles():
    a, b = rng.gamma(2, 3, 5_000), rng.gamma(2.3, 3, 5_000)
    result = feature_test("visits", pd.Series(a), pd.Series(b))
    edges = np.quantile(a, np.linspace(0.1, 0.9, 9))
    ref = np.histogram(a, bins=[-np.inf, *edges, np.inf])[0] / len(a)
    cur = np.histogram(b, bins=[-np.inf, *edges, np.inf])[0] / len(b)
    # numpy's histogram puts a value on an inner edge in the bin to its right, as the PSI does
    assert result.psi == pytest.approx(np.sum((cur - ref) * np.log(cur / ref)))


def test_small_categorical_samples_get_scipys_two_sample_chi_square_on_the_counts():
    a = pd.Series(rng.choice(["north", "south", "east"], 500, p=[0.5, 0.3, 0.2]))
    b = pd.Series(rng.choice(["north", "south", "east"], 400, p=[0.4, 0.3, 0.3]))
    result = feature_test("region", a, b, text=True)
    table = pd.crosstab(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b])
    reference = stats.chi2_contingency(table, correction=False)
    assert result.test == "chi_square"
    assert result.statistic == pytest.approx(reference.statistic) and result.p_value == pytest.approx(
        reference.pvalue
    )


def test_a_value_the_reference_never_had_is_strong_evidence_not_a_division_by_zero():
    a = pd.Series(["a"] * 300 + ["b"] * 200 + ["c"] * 100)
    b = pd.Series(["a"] * 250 + ["b"] * 200 + ["c"] * 100 + ["new"] * 50)
    result = feature_test("plan", a, b, text=True)
    assert result.p_value < 1e-6 and np.isfinite(result.statistic)


def test_binary_features_get_the_two_proportion_z_test_of_statsmodels():
    a, b = pd.Series(rng.random(600) < 0.3), pd.Series(rng.random(500) < 0.4)
    result = feature_test("churned", a.astype(int), b.astype(int))
    z, p = proportions_ztest([(b == 0).sum(), (a == 0).sum()], [len(b), len(a)])
    assert (result.test, result.kind) == ("z_test", "binary")
    assert result.statistic == pytest.approx(z) and result.p_value == pytest.approx(p)


def test_large_categorical_samples_get_scipys_jensen_shannon_distance():
    a = pd.Series(rng.choice(list("abcd"), 5_000, p=[0.4, 0.3, 0.2, 0.1]))
    b = pd.Series(rng.choice(list("abcd"), 5_000, p=[0.3, 0.3, 0.2, 0.2]))
    result = feature_test("plan", a, b, text=True)
    p = a.value_counts(normalize=True).sort_index().to_numpy()
    q = b.value_counts(normalize=True).sort_index().to_numpy()
    assert result.test == "jensen_shannon"
    assert result.statistic == pytest.approx(
        jensenshannon(np.maximum(p, EMPTY_SHARE), np.maximum(q, EMPTY_SHARE))
    )


def test_missing_values_are_left_out_of_the_test_and_reported():
    a = pd.Series([1.0, 2.0, np.nan, 4.0] * 100 + list(range(100)))
    b = pd.Series([1.0, np.nan, np.nan, 4.0] * 100 + list(range(100)))
    result = feature_test("x", a, b)
    assert result.missing_reference == pytest.approx(100 / 500) and result.missing_current == pytest.approx(
        200 / 500
    )
    assert result.statistic == pytest.approx(stats.ks_2samp(a.dropna(), b.dropna()).statistic)


def test_segment_shares_get_scipys_two_sample_chi_square_with_noise_as_a_segment_of_its_own():
    reference = rng.choice([-1, 0, 1, 2], 800, p=[0.05, 0.5, 0.3, 0.15])
    current = rng.choice([-1, 0, 1, 2], 600, p=[0.05, 0.4, 0.3, 0.25])
    shares = segment_shares(reference, current, Thresholds())
    ref = np.array([(reference == s).sum() for s in (-1, 0, 1, 2)])
    cur = np.array([(current == s).sum() for s in (-1, 0, 1, 2)])
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert shares.segments == (-1, 0, 1, 2)
    assert shares.chi_square == pytest.approx(expected.statistic) and shares.p_value == pytest.approx(
        expected.pvalue
    )
    assert shares.level == "drift"


def test_the_hungarian_matching_keeps_as_many_customers_together_as_the_best_permutation():
    from itertools import permutations

    deployed = rng.integers(0, 4, 500)
    refitted = np.where(rng.random(500) < 0.7, (deployed + 1) % 4, rng.integers(0, 4, 500))
    matching, share = matched(deployed, refitted)
    best = max(
        sum(((refitted == r) & (deployed == p[r])).sum() for r in range(4)) for p in permutations(range(4))
    )
    assert share == pytest.approx(best / 500)
    overlap = pd.crosstab(refitted, deployed).to_numpy()
    rows, columns = linear_sum_assignment(-overlap)
    assert matching == dict(zip(rows.tolist(), columns.tolist(), strict=True))


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"psi_drift": 0.05}, "'psi_warning' must not exceed 'psi_drift'"),
        ({"p_value": 0.1}, "unknown monitoring threshold"),
        ({"psi_warning": -1}, "must be a positive number"),
    ],
)
def test_a_policy_with_wrong_thresholds_is_refused_by_name(policy, message):
    with pytest.raises(SegmentationError, match=message):
        Thresholds.from_dict(policy)
