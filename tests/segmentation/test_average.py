"""A segment against the average: one relative difference and one zero guard for every reader."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from segmentation.explain.average import ZERO_AVERAGE, lift, segments_versus_average, versus_average
from segmentation.explain.profile import profile_segments


@pytest.mark.parametrize(
    ("mean", "average", "expected"),
    [
        (150.0, 100.0, 0.5),
        (50.0, 100.0, -0.5),
        (100.0, 100.0, 0.0),
        (-15.0, -10.0, -0.5),  # further below a negative average reads as below it
        (-5.0, -10.0, 0.5),
        (3, 2, 0.5),
        ("3", 2, 0.5),
    ],
)
def test_the_difference_is_relative_to_the_size_of_the_average(mean, average, expected):
    assert versus_average(mean, average) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("mean", "average"),
    [
        (1.0, 0.0),
        (1.0, -0.0),
        (1.0, ZERO_AVERAGE),
        (1.0, -ZERO_AVERAGE),
        (1.0, ZERO_AVERAGE / 10),
        (None, 1.0),
        (1.0, None),
        (math.nan, 1.0),
        (1.0, math.inf),
        ("n/a", 1.0),
        (True, 1.0),
    ],
)
def test_under_the_zero_guard_or_without_a_number_there_is_no_comparison(mean, average):
    assert versus_average(mean, average) is None
    assert lift(mean, average) is None


def test_just_above_the_guard_the_comparison_is_defined():
    assert versus_average(2 * ZERO_AVERAGE, 1.5 * ZERO_AVERAGE) == pytest.approx(1 / 3)
    assert lift(3.0, -1.5) == -2.0


def test_the_profiles_lift_is_mean_over_average_under_the_same_guard():
    values = pd.DataFrame({"spend": [10.0, 30.0, 20.0, 40.0], "balance": [-1.0, 1.0, -1.0, 1.0]})
    labels = np.array([0, 0, 1, 1])
    profile = profile_segments(values, None, labels, 2)
    assert profile["spend_lift"].tolist() == [20.0 / 25.0, 30.0 / 25.0]
    assert profile["balance_lift"].tolist() == [None, None]  # the population's mean is exactly 0


def test_every_segment_against_the_average_from_a_profile_as_records_or_frame():
    means = {"spend": 100.0, "visits": 10.0, "zero": 0.0}
    records = [
        {"segment": 0, "spend_mean": 150.0, "visits_mean": 5.0, "zero_mean": 1.0},
        {"segment": 1, "spend_mean": 50.0, "visits_mean": 15.0, "zero_mean": -1.0},
        {"segment": 2, "spend_mean": None, "visits_mean": 10.0},
    ]
    expected = {
        0: {"spend": 0.5, "visits": -0.5, "zero": None},
        1: {"spend": -0.5, "visits": 0.5, "zero": None},
        2: {"spend": None, "visits": 0.0, "zero": None},
    }
    assert segments_versus_average(records, means) == expected
    assert segments_versus_average(pd.DataFrame(records), means) == expected
    assert segments_versus_average(records, means, ["visits"]) == {
        s: {"visits": v["visits"]} for s, v in expected.items()
    }
    unnumbered = [{k: v for k, v in row.items() if k != "segment"} for row in records]
    assert list(segments_versus_average(unnumbered, means)) == [0, 1, 2]
