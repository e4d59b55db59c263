"""Each effect is statsmodels' on the same arrays; binary outcomes are mapped and the mapping shown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from segmentation.errors import SegmentationError
from segmentation.experiments.estimates import binary_values, relative_lift, two_proportions, welch

rng = np.random.default_rng(15)
EXACT = {"rtol": 1e-10}


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_welch_is_statsmodels_unequal_variance_t_test_and_interval(alpha):
    t, c = rng.lognormal(3.1, 0.9, 180), rng.lognormal(3.0, 0.6, 260)
    result = welch(t, c, alpha)
    reference = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    statistic, p, _ = reference.ttest_ind(usevar="unequal")
    low, high = reference.tconfint_diff(alpha=alpha, usevar="unequal")
    assert result.method == "welch_t" and (result.n_treatment, result.n_control) == (180, 260)
    np.testing.assert_allclose(result.estimate, t.mean() - c.mean(), **EXACT)
    np.testing.assert_allclose(result.p_value, p, **EXACT)
    np.testing.assert_allclose([result.ci_low, result.ci_high], [low, high], **EXACT)
    np.testing.assert_allclose(result.estimate / result.se, statistic, **EXACT)


def test_two_proportions_are_statsmodels_pooled_z_test_and_wald_interval():
    t, c = (rng.random(400) < 0.27).astype(float), (rng.random(350) < 0.2).astype(float)
    result = two_proportions(t, c, 0.05)
    _, p = proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])
    low, high = confint_proportions_2indep(
        t.sum(), len(t), c.sum(), len(c), compare="diff", method="wald", alpha=0.05
    )
    assert result.method == "two_proportion_z"
    np.testing.assert_allclose(result.estimate, t.mean() - c.mean(), **EXACT)
    np.testing.assert_allclose(result.p_value, p, **EXACT)
    np.testing.assert_allclose([result.ci_low, result.ci_high], [low, high], **EXACT)


@pytest.mark.parametrize("binary", [False, True])
def test_relative_lift_is_the_ratio_minus_one_with_the_delta_method_interval(binary):
    if binary:
        t, c = (rng.random(900) < 0.33).astype(float), (rng.random(800) < 0.3).astype(float)
        v_t, v_c = t.mean() * (1 - t.mean()) / len(t), c.mean() * (1 - c.mean()) / len(c)
    else:
        t, c = rng.gamma(3, 12, 500), rng.gamma(3, 11, 450)
        v_t, v_c = t.var(ddof=1) / len(t), c.var(ddof=1) / len(c)
    result = relative_lift(t, c, 0.05, binary=binary)
    r = t.mean() / c.mean() - 1
    # the gradient of m_t / m_c is (1 / m_c, -m_t / m_c²), the arms independent
    se = np.sqrt(v_t / c.mean() ** 2 + t.mean() ** 2 * v_c / c.mean() ** 4)
    assert result.method == "relative_lift"
    np.testing.assert_allclose(result.estimate, r, **EXACT)
    np.testing.assert_allclose(
        [result.ci_low, result.ci_high],
        [r - stats.norm.ppf(0.975) * se, r + stats.norm.ppf(0.975) * se],
        **EXACT,
    )
    np.testing.assert_allclose(result.p_value, 2 * stats.norm.sf(abs(r / se)), **EXACT)


def test_relative_lift_interval_covers_the_true_lift_about_95_percent_of_the_time():
    # 2,000 experiments with a true lift of 10% on exponential outcomes, through the shipped formula
    from segmentation.experiments.estimates import lift_arrays

    n, rng = 400, np.random.default_rng(1515)
    t, c = rng.exponential(11.0, (2000, n)), rng.exponential(10.0, (2000, n))
    tested = lift_arrays(t.mean(1), t.var(1, ddof=1) / n, c.mean(1), c.var(1, ddof=1) / n, 0.05)
    covered = np.mean((tested.ci_low <= 0.1) & (tested.ci_high >= 0.1))
    low, high = stats.binom.ppf([0.005, 0.995], 2000, 0.95) / 2000
    assert low <= covered <= high


def test_too_few_customers_in_an_arm_is_a_missing_estimate_with_its_reason():
    result = welch(np.array([3.0]), rng.normal(size=20), 0.05)
    assert np.isnan(result.estimate) and np.isnan(result.p_value)
    assert result.reason == "fewer than 2 customers with an outcome in the treatment arm"
    assert two_proportions(np.ones(5), np.array([1.0]), 0.05).reason.endswith("in the control arm")


def test_constant_outcomes_are_missing_with_a_reason_not_a_nan_test():
    assert welch(np.ones(5), np.ones(4), 0.05).reason == "the outcome does not vary in either arm"
    assert two_proportions(np.zeros(5), np.zeros(4), 0.05).reason == "every customer's outcome is 0"
    assert relative_lift(np.ones(5), np.zeros(4), 0.05, binary=True).reason == "the control mean is 0"


@pytest.mark.parametrize(
    ("values", "mapping", "expected"),
    [
        (["Yes", "no", "YES", None], {"YES": 1, "Yes": 1, "no": 0}, [1, 0, 1, np.nan]),
        ([True, False, True], {"False": 0, "True": 1}, [1, 0, 1]),
        ([1, 0, 0, np.nan], {"0": 0, "1": 1}, [1, 0, 0, np.nan]),
        (["true", "FALSE", ""], {"FALSE": 0, "true": 1}, [1, 0, np.nan]),
        (["1", "0", "1"], {"0": 0, "1": 1}, [1, 0, 1]),
    ],
)
def test_binary_outcomes_are_mapped_to_0_and_1_and_the_mapping_reported(values, mapping, expected):
    numbers, found = binary_values("converted", pd.Series(values, dtype=object))
    assert found == mapping
    np.testing.assert_array_equal(numbers, np.array(expected, dtype=float))


def test_numbers_other_than_0_and_1_are_continuous():
    numbers, found = binary_values("spend", pd.Series([1.5, 0.0, 20.0]))
    assert found is None
    np.testing.assert_array_equal(numbers, [1.5, 0.0, 20.0])
    numbers, found = binary_values("spend", pd.Series(["1.5", "3", " 2"]))
    assert found is None and numbers.tolist() == [1.5, 3.0, 2.0]
    # a 0/1 column the design calls continuous stays a number
    assert binary_values("visits", pd.Series([0, 1, 1]), declared="continuous")[1] is None


def test_other_values_are_an_error_naming_them():
    with pytest.raises(SegmentationError, match=r"The metric 'converted' has the values 'maybe', 'n/a'"):
        binary_values("converted", pd.Series(["yes", "maybe", "no", "n/a"]))
    with pytest.raises(
        SegmentationError, match=r"'converted' is binary in the design but has the values 2\.0"
    ):
        binary_values("converted", pd.Series([0, 1, 2]), declared="binary")
    with pytest.raises(SegmentationError, match="continuous in the design but its values are yes/no"):
        binary_values("spend", pd.Series(["yes", "no"]), declared="continuous")
