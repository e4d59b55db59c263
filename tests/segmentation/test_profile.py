"""Segment profiles: figures per segment, business names and suggested actions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.explain.names import archetype
from segmentation.explain.profile import profile_segments
from segmentation.synthetic.customers import ARCHETYPES, customer_table


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    frame, truth = customer_table(2000, seed=2, messy=False)
    values = frame[["recency_days", "orders_per_year", "avg_basket"]].astype(float)
    return values, truth


def test_the_profile_keeps_the_foundations_columns_and_adds_medians_lifts_and_differences(planted):
    values, truth = planted
    profile = profile_segments(values, None, truth, 4)
    assert list(profile.columns[:7]) == [
        "segment",
        "name",
        "size",
        "share",
        "recency_days_mean",
        "orders_per_year_mean",
        "avg_basket_mean",
    ]
    segment = profile.iloc[1]
    members = values[truth == 1]
    assert segment["size"] == len(members) and segment["share"] == pytest.approx(len(members) / 2000)
    assert segment["avg_basket_median"] == pytest.approx(members["avg_basket"].median())
    assert segment["avg_basket_lift"] == pytest.approx(
        members["avg_basket"].mean() / values["avg_basket"].mean()
    )
    expected_smd = (members["avg_basket"].mean() - values["avg_basket"].mean()) / values["avg_basket"].std(
        ddof=0
    )
    assert segment["avg_basket_smd"] == pytest.approx(expected_smd)
    assert "avg basket" in profile.iloc[0]["distinguishing"] or "orders" in profile.iloc[0]["distinguishing"]


def test_planted_archetypes_get_the_names_a_retailer_would_use(planted):
    values, truth = planted
    profile = profile_segments(values, None, truth, 4)
    names = dict(zip(profile["segment"], profile["name"], strict=True))
    assert names[0] == ARCHETYPES[0][0] == "Loyal high spenders"
    assert names[2] == "Lapsing one-timers"
    assert names[3] == "Bargain hunters"
    assert profile["name"].is_unique
    actions = profile.set_index("name")["actions"]
    assert 2 <= len(actions["Loyal high spenders"].split(" | ")) <= 3


def test_a_value_proxy_outcomes_and_top_categories_appear_when_the_data_has_them(planted):
    values, truth = planted
    rng = np.random.default_rng(0)
    outcomes = pd.DataFrame({"churned": (truth == 2) | (rng.random(2000) < 0.05)}).astype(float)
    region = pd.DataFrame({"region": np.where(truth == 0, "North", rng.choice(["South", "East"], 2000))})
    profile = profile_segments(values, None, truth, 4, categorical=region, outcomes=outcomes)
    assert profile.loc[0, "region_top"] == "North 100%"
    assert profile.loc[2, "churned_rate"] > 0.9 > profile.loc[0, "churned_rate"]
    assert (
        profile.loc[2, "churned_ci_low"] < profile.loc[2, "churned_rate"] <= profile.loc[2, "churned_ci_high"]
    )
    expected = (values["orders_per_year"] * values["avg_basket"])[truth == 0].mean()
    assert profile.loc[0, "historic_spend"] == pytest.approx(expected)
    assert profile["value_share"].sum() == pytest.approx(1.0)
    assert "clv_proxy" not in profile.columns  # historic spend is not a lifetime value


def test_arbitrary_column_names_fall_back_to_their_most_distinctive_features():
    smd = pd.Series({"x_a": 1.2, "x_b": -0.8, "x_c": 0.1})
    assert archetype(smd) == "High x a, low x b"
    assert archetype(pd.Series({"x_a": 0.1, "x_b": -0.1})) == "Mainstream customers"


def test_repeated_names_are_numbered_and_empty_segments_are_named_so():
    values = pd.DataFrame({"spend": [1.0, 1.1, 1.0, 5.0], "visits": [1.0, 1.0, 1.1, 5.0]})
    profile = profile_segments(values, None, np.array([0, 1, 1, 3]), 5)
    assert profile["name"].is_unique
    assert profile.loc[2, "name"] == "Empty segment" and profile.loc[2, "size"] == 0
    assert profile.loc[2, "spend_mean"] is None  # JSON-safe: no NaN
