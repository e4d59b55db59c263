"""Drift of a known size is found at the documented level; no drift stays at none.

The false-alarm rate under no drift is measured over many seeds: current customers drawn from the
reference population, each check's level counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.monitoring.report import monitor
from tests.segmentation.monitoring.planted import CENTRES, FEATURES, deployed, population


def _levels(result):  # type: ignore[no-untyped-def]
    return {f.test.feature: f.level for f in result.features}


@pytest.mark.parametrize(("n", "seeds"), [(400, range(20, 30)), (4_000, range(30, 33))])
def test_a_shift_of_half_a_standard_deviation_in_one_feature_is_drift_and_only_there(n, seeds):
    model, reference = deployed()
    others = []
    for seed in seeds:
        current = population(n, seed=seed)
        current["tenure"] += 0.5 * reference["tenure"].std()
        levels = _levels(monitor(model, reference, current))
        assert levels["tenure"] == "drift", seed
        others += [levels[f] for f in FEATURES if f != "tenure"]
    # the untouched features: never drift, and a warning (adjusted p < 0.05) at most by chance
    assert "drift" not in others and others.count("warning") <= 1


def test_shares_that_move_are_drift_and_their_rows_say_by_how_much():
    model, reference = deployed()
    current = population(600, seed=12, shares=(0.3, 0.3, 0.4))
    result = monitor(model, reference, current)
    assert result.shares.level == "drift"
    frame = result.shares_frame()
    assert frame["current_customers"].sum() == 600
    assert frame["reference_share"].sum() == pytest.approx(1.0, abs=1e-5)


def test_customers_who_changed_are_counted_from_segment_to_segment():
    model, reference = deployed()
    current = reference.copy()
    rng = np.random.default_rng(3)
    movers = (reference["planted"] == 0) & (rng.random(len(reference)) < 0.7)
    current.loc[movers, FEATURES] = CENTRES[1] + rng.normal(0, 0.6, (int(movers.sum()), len(FEATURES)))
    result = monitor(model, reference, current)
    before, after = model.predict(reference), model.predict(current)
    assert result.migration.customers == len(reference)
    assert result.migration.moved_share == pytest.approx(np.mean(before != after))
    assert result.migration.matrix.to_numpy().tolist() == pd.crosstab(before, after).to_numpy().tolist()
    assert result.migration.level == "drift"  # about a third of everyone moved
    # the same customers, a little older: hardly anyone crosses a border
    settled = reference.copy()
    settled[FEATURES] += rng.normal(0, 0.05, (len(reference), len(FEATURES)))
    assert monitor(model, reference, settled).migration.level == "none"


def test_customers_far_from_every_segment_are_novelty():
    model, reference = deployed()
    current = population(600, seed=13)
    strangers = population(90, seed=14, start=10_000)
    strangers[FEATURES] = np.array([9.0, 9.0, -3.0, 9.0]) + np.random.default_rng(1).normal(0, 0.6, (90, 4))
    result = monitor(model, reference, pd.concat([current, strangers], ignore_index=True))
    assert result.novelty.current_share > 0.1 and result.novelty.level == "drift"


def test_a_population_whose_groups_merged_loses_the_refits_agreement():
    model, reference = deployed()
    current = population(600, seed=15)
    merged = current["planted"] == 2
    current.loc[merged, FEATURES] = CENTRES[1] + np.random.default_rng(2).normal(
        0, 1.4, (int(merged.sum()), 4)
    )
    result = monitor(model, reference, current)
    assert result.refit.drop is not None and result.refit.drop > 0.1
    assert result.refit.level in ("warning", "drift")
    assert result.overall_level == "drift"


def test_no_drift_raises_few_false_alarms_over_many_seeds():
    """Under no drift: new customers from the reference population, 30 seeds at two sizes."""
    model, reference = deployed()
    alarms = {"features": 0, "segment_shares": 0, "per_segment": 0, "novelty": 0, "refit": 0}
    runs = 0
    for n in (300, 3_000):
        for seed in range(100, 115):
            result = monitor(model, reference, population(n, seed=seed, start=1_000_000))
            runs += 1
            for check in alarms:
                alarms[check] += result.levels[check] == "drift"
    rates = {check: count / runs for check, count in alarms.items()}
    assert all(rate <= 0.1 for rate in rates.values()), rates
    assert rates["features"] <= 0.05, rates
