"""Calibration: 2,000 simulated experiments through the shipped vectorised formulas.

A/A experiments must reject at alpha as often as alpha says, and 95% intervals must cover a
known effect 95% of the time, each within the 99% binomial interval of 2,000 trials. The first
simulated experiment is also run through analyse(), so the simulation tests the shipped path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmentation.experiments.analysis import analyse
from segmentation.experiments.estimates import proportions_arrays, welch_arrays

RUNS = 2_000
ALPHA = 0.05
DESIGN = {"arms": [{"name": "control", "ratio": 1}, {"name": "treatment", "ratio": 1}], "alpha": ALPHA}


def within_99(share: float, p: float) -> bool:
    low, high = stats.binom.ppf([0.005, 0.995], RUNS, p) / RUNS
    return bool(low <= share <= high)


def one_experiment(treatment: np.ndarray, control: np.ndarray) -> pd.DataFrame:
    """The rows of analyse() for one simulated experiment (one segment)."""
    n_t, n_c = len(treatment), len(control)
    ids = [f"c{i}" for i in range(n_t + n_c)]
    assignment = pd.DataFrame(
        {"customer_id": ids, "segment": 0, "arm": ["treatment"] * n_t + ["control"] * n_c}
    )
    outcomes = pd.DataFrame({"customer_id": ids, "y": np.r_[treatment, control]})
    effects = analyse(DESIGN, assignment, outcomes, metrics=["y"]).effects
    return effects[effects["segment"] == 0].iloc[0]


def welch_runs(rng: np.random.Generator, effect: float) -> tuple:
    # unequal sizes and spreads: where the pooled t-test would be miscalibrated and Welch's is not
    t = rng.normal(10 + effect, 4.0, (RUNS, 60))
    c = rng.normal(10, 1.5, (RUNS, 140))
    tested = welch_arrays(t.mean(1), t.var(1, ddof=1), 60, c.mean(1), c.var(1, ddof=1), 140, ALPHA)
    return t, c, tested


def test_welch_a_a_false_positive_rate_is_alpha():
    t, c, tested = welch_runs(np.random.default_rng(101), 0.0)
    assert within_99(float(np.mean(tested.p_value < ALPHA)), ALPHA)
    row = one_experiment(t[0], c[0])
    assert row["method"] == "welch_t"
    np.testing.assert_allclose(
        [row["estimate"], row["p_value"], row["ci_low"], row["ci_high"]],
        [tested.estimate[0], tested.p_value[0], tested.ci_low[0], tested.ci_high[0]],
        rtol=1e-12,
    )


def test_welch_interval_covers_a_known_effect_95_percent_of_the_time():
    _, _, tested = welch_runs(np.random.default_rng(202), 1.2)
    covered = float(np.mean((tested.ci_low <= 1.2) & (tested.ci_high >= 1.2)))
    assert within_99(covered, 1 - ALPHA)


def proportion_runs(rng: np.random.Generator, p_t: float, p_c: float) -> tuple:
    t = (rng.random((RUNS, 500)) < p_t).astype(float)
    c = (rng.random((RUNS, 400)) < p_c).astype(float)
    return t, c, proportions_arrays(t.sum(1), 500, c.sum(1), 400, ALPHA)


def test_two_proportion_a_a_false_positive_rate_is_alpha():
    t, c, tested = proportion_runs(np.random.default_rng(303), 0.3, 0.3)
    assert within_99(float(np.mean(tested.p_value < ALPHA)), ALPHA)
    row = one_experiment(t[0], c[0])
    assert row["method"] == "two_proportion_z"
    np.testing.assert_allclose(
        [row["estimate"], row["p_value"], row["ci_low"], row["ci_high"]],
        [tested.estimate[0], tested.p_value[0], tested.ci_low[0], tested.ci_high[0]],
        rtol=1e-12,
    )


def test_two_proportion_interval_covers_a_known_difference_95_percent_of_the_time():
    _, _, tested = proportion_runs(np.random.default_rng(404), 0.36, 0.3)
    covered = float(np.mean((tested.ci_low <= 0.06) & (tested.ci_high >= 0.06)))
    assert within_99(covered, 1 - ALPHA)


@pytest.mark.parametrize("share", [0.05 - 0.02, 0.05 + 0.02])
def test_the_calibration_check_would_catch_a_test_off_by_two_points(share):
    # the acceptance band is narrow enough to matter: a 3% or 7% false-positive rate fails
    assert not within_99(share, ALPHA)
