"""Sizes and power are statsmodels' NormalIndPower on the same inputs, two-sided."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from segmentation.errors import SegmentationError
from segmentation.experiments import Metric, achieved_power, cuped_reduction, parse_arms, power_table
from segmentation.experiments.power import POWER_COLUMNS, required_per_arm

CONVERSION = Metric("conversion", "binary", baseline=0.1, mde=0.02)
SPEND = Metric("spend", "continuous", baseline=50.0, sd=20.0, mde=3.0)


def scipy_power(effect: float, n1: int, n2: int, alpha: float) -> float:
    """Two-sided z-test power written out with scipy: both tails beyond the critical value."""
    shift = effect * math.sqrt(1 / (1 / n1 + 1 / n2))
    crit = stats.norm.isf(alpha / 2)
    return float(stats.norm.sf(crit - shift) + stats.norm.cdf(-crit - shift))


@pytest.mark.parametrize("ratio", [1.0, 2.0, 0.5])
@pytest.mark.parametrize(("alpha", "power"), [(0.05, 0.8), (0.01, 0.9)])
def test_required_sizes_are_statsmodels_solve_power_rounded_up(ratio, alpha, power):
    for metric, effect in (
        (CONVERSION, proportion_effectsize(0.12, 0.1)),
        (SPEND, 3.0 / 20.0),
    ):
        n1 = NormalIndPower().solve_power(effect, nobs1=None, alpha=alpha, power=power, ratio=ratio)
        assert required_per_arm(metric, ratio=ratio, alpha=alpha, power=power) == (
            math.ceil(n1),
            math.ceil(n1 * ratio),
        )
        # and the sizes do reach the power, one fewer in control would not
        control, _ = required_per_arm(metric, ratio=ratio, alpha=alpha, power=power)
        assert scipy_power(effect, control, math.ceil(control * ratio), alpha) >= power
        assert scipy_power(effect, control - 1, math.floor((control - 1) * ratio), alpha) < power


def test_a_known_sample_size():
    # 10% -> 12% at 5% two-sided and 80% power: the arcsine formula 2 (z_0.975 + z_0.8)^2 / h^2 = 3834.6
    h = 2 * math.asin(math.sqrt(0.12)) - 2 * math.asin(math.sqrt(0.1))
    closed_form = 2 * (stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) ** 2 / h**2
    assert closed_form == pytest.approx(3834.6, abs=0.1)
    assert required_per_arm(CONVERSION, ratio=1.0, alpha=0.05, power=0.8) == (3835, 3835)


@pytest.mark.parametrize(("n_control", "n_treatment"), [(100, 100), (1_000, 2_500), (3_000, 700)])
def test_achieved_power_is_statsmodels_power_and_the_scipy_formula(n_control, n_treatment):
    for metric, effect in ((CONVERSION, proportion_effectsize(0.12, 0.1)), (SPEND, 0.15)):
        got = achieved_power(metric, n_control=n_control, n_treatment=n_treatment, alpha=0.05)
        reference = NormalIndPower().power(effect, nobs1=n_control, alpha=0.05, ratio=n_treatment / n_control)
        np.testing.assert_allclose(got, reference, rtol=1e-10)
        np.testing.assert_allclose(got, scipy_power(effect, n_control, n_treatment, 0.05), rtol=1e-10)


def test_an_empty_arm_has_no_power():
    assert achieved_power(SPEND, n_control=0, n_treatment=50, alpha=0.05) == 0.0


def test_cuped_removes_rho_squared_of_the_variance():
    assert cuped_reduction(0.6) == pytest.approx(0.64)
    assert cuped_reduction(-0.5) == pytest.approx(0.75)
    with pytest.raises(SegmentationError, match="between -1 and 1"):
        cuped_reduction(1.5)
    # the power with CUPED is the power of the same effect with the reduced standard deviation
    reduced = Metric("spend", "continuous", 50.0, sd=20.0 * math.sqrt(1 - 0.6**2), mde=3.0)
    with_cuped = achieved_power(SPEND, n_control=400, n_treatment=400, alpha=0.05, rho=0.6)
    np.testing.assert_allclose(
        with_cuped, achieved_power(reduced, n_control=400, n_treatment=400, alpha=0.05), rtol=1e-10
    )


def test_power_table_rows_per_segment_and_arm_with_a_row_for_all():
    arms = parse_arms("control:1,email:1,call:2")
    counts = pd.DataFrame(
        {
            "segment": [-1, 0, 1],
            "control": [40, 5_000, 300],
            "email": [40, 5_000, 300],
            "call": [80, 10_000, 600],
        }
    )
    table = power_table(CONVERSION, counts, alpha=0.05, power=0.8, arms=arms)
    assert tuple(table.columns) == POWER_COLUMNS
    assert table[["segment", "arm"]].values.tolist() == [
        [-1, "email"], [0, "email"], [1, "email"], ["all", "email"],
        [-1, "call"], [0, "call"], [1, "call"], ["all", "call"],
    ]  # fmt: skip
    effect = proportion_effectsize(0.12, 0.1)
    for row in table.itertuples():
        assert row.achieved_power == pytest.approx(scipy_power(effect, row.n_control, row.n_treatment, 0.05))
        assert row.readable == (row.achieved_power >= 0.8)
    everyone = table[(table.segment == "all") & (table.arm == "call")].iloc[0]
    assert (everyone.n_control, everyone.n_treatment) == (5_340, 10_680)
    # the planned ratio of call to control is 2
    n1 = NormalIndPower().solve_power(effect, nobs1=None, alpha=0.05, power=0.8, ratio=2.0)
    assert (everyone.required_control, everyone.required_treatment) == (math.ceil(n1), math.ceil(2 * n1))
    # a segment too small to read, a large one readable
    by_segment = table[table.arm == "email"].set_index("segment")["readable"].to_dict()
    assert by_segment == {-1: False, 0: True, 1: False, "all": True}


def test_power_table_with_cuped_adds_a_column():
    counts = pd.DataFrame({"segment": [0], "control": [400], "treatment": [400]})
    table = power_table(SPEND, counts, alpha=0.05, power=0.8, rho=0.6)
    assert table["achieved_power_cuped"].iloc[0] == pytest.approx(
        achieved_power(SPEND, n_control=400, n_treatment=400, alpha=0.05, rho=0.6)
    )
    assert table["achieved_power_cuped"].iloc[0] > table["achieved_power"].iloc[0]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (Metric("m", "binary", 0.1, mde=0.0), "positive difference in rate"),
        (Metric("m", "binary", 0.1, mde=-0.01), "positive difference"),
        (Metric("m", "binary", 1.2, mde=0.01), "strictly between 0 and 1"),
        (Metric("m", "binary", 0.0, mde=0.01), "strictly between 0 and 1"),
        (Metric("m", "binary", 0.95, mde=0.1), "a rate above 1"),
        (Metric("m", "continuous", 5.0, mde=1.0), "needs a positive standard deviation"),
        (Metric("m", "continuous", 5.0, sd=0.0, mde=1.0), "needs a positive standard deviation"),
        (Metric("m", "ratio", 5.0, mde=1.0), "binary or continuous"),
    ],
)
def test_bad_metrics_are_refused_with_a_clear_message(metric, message):
    with pytest.raises(SegmentationError, match=message):
        required_per_arm(metric, ratio=1.0, alpha=0.05, power=0.8)


@pytest.mark.parametrize(("alpha", "power", "message"), [(0.0, 0.8, "alpha"), (0.05, 1.0, "power")])
def test_levels_out_of_range_are_refused(alpha, power, message):
    with pytest.raises(SegmentationError, match=f"{message} must lie strictly between 0 and 1"):
        required_per_arm(SPEND, ratio=1.0, alpha=alpha, power=power)
