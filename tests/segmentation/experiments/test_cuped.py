"""CUPED: statsmodels' Welch test on Y − θ(X − mean X), narrower by √(1 − ρ²)."""

from __future__ import annotations

import numpy as np
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from segmentation.experiments.cuped import adjust, cuped_welch
from segmentation.experiments.estimates import welch

rng = np.random.default_rng(2026)
RHO = 0.7


def correlated(n: int, effect: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y and a pre-period X with correlation RHO in each arm, half the customers treated."""
    treated = rng.random(n) < 0.5
    x = rng.normal(50, 10, n)
    noise = rng.normal(0, 10, n)
    y = 20 + RHO * (x - 50) + np.sqrt(1 - RHO**2) * noise + effect * treated
    return y, x, treated


def test_the_estimate_is_statsmodels_welch_on_the_outcome_adjusted_by_hand():
    y, x, treated = correlated(3_000, 1.5)
    result, adjustment = cuped_welch(y, x, treated, ~treated, 0.05)
    theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)  # pooled over both arms
    y_adj = y - theta * (x - x.mean())
    reference = CompareMeans(DescrStatsW(y_adj[treated]), DescrStatsW(y_adj[~treated]))
    _, p, _ = reference.ttest_ind(usevar="unequal")
    low, high = reference.tconfint_diff(alpha=0.05, usevar="unequal")
    assert result.method == "cuped_welch_t"
    np.testing.assert_allclose(adjustment.theta, theta, rtol=1e-10)
    np.testing.assert_allclose(result.estimate, y_adj[treated].mean() - y_adj[~treated].mean(), rtol=1e-10)
    np.testing.assert_allclose([result.p_value, result.ci_low, result.ci_high], [p, low, high], rtol=1e-10)
    np.testing.assert_allclose(adjustment.rho, np.corrcoef(y, x)[0, 1], rtol=1e-10)
    np.testing.assert_allclose(adjustment.variance_reduction, 1 - adjustment.rho**2, rtol=1e-10)


def test_the_interval_narrows_by_the_square_root_of_one_minus_rho_squared():
    y, x, treated = correlated(20_000, 1.5)
    raw = welch(y[treated], y[~treated], 0.05)
    adjusted, adjustment = cuped_welch(y, x, treated, ~treated, 0.05)
    assert abs(adjustment.rho - RHO) < 0.02
    ratio = (adjusted.ci_high - adjusted.ci_low) / (raw.ci_high - raw.ci_low)
    np.testing.assert_allclose(ratio, np.sqrt(1 - adjustment.rho**2), rtol=0.01)
    np.testing.assert_allclose(ratio, np.sqrt(1 - RHO**2), rtol=0.03)
    # both estimate the same effect; the adjusted one is the closer here, as it should be on average
    assert adjusted.ci_low < 1.5 < adjusted.ci_high


def test_pooled_variance_of_the_adjusted_outcome_is_one_minus_rho_squared_of_the_raw():
    y, x, _ = correlated(500, 0.0)
    y_adj, adjustment = adjust(y, x)
    np.testing.assert_allclose(
        np.var(y_adj, ddof=1), np.var(y, ddof=1) * adjustment.variance_reduction, rtol=1e-10
    )


def test_customers_without_the_covariate_are_left_out_and_a_constant_covariate_changes_nothing():
    y, x, _ = correlated(400, 0.0)
    x[:10] = np.nan
    y_adj, adjustment = adjust(y, x)
    assert adjustment.customers == 390 and np.isnan(y_adj[:10]).all() and not np.isnan(y_adj[10:]).any()
    same, flat = adjust(y, np.full(len(y), 3.0))
    assert flat.theta == 0 and flat.variance_reduction == 1.0
    np.testing.assert_array_equal(same, y)
