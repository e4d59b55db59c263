"""Standardised mean differences between arms, checked against numpy by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.experiments import assign, balance_table, parse_arms
from segmentation.experiments.balance import BALANCE_COLUMNS

rng = np.random.default_rng(11)
ARMS = parse_arms("control:1,a:1,b:2")


@pytest.fixture(scope="module")
def data():
    n = 900
    labels = pd.DataFrame({"customer_id": [f"id{i}" for i in range(n)], "segment": rng.integers(-1, 3, n)})
    covariates = pd.DataFrame(
        {
            "customer_id": labels.customer_id,
            "age": rng.normal(40, 12, n),
            "member": rng.random(n) < 0.3,
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    covariates.loc[::17, "age"] = np.nan
    covariates.loc[::23, "region"] = None
    return assign(labels, ARMS, salt="bal"), covariates


def hand_smd(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    return (np.mean(x) - np.mean(y)) / np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2)


def test_balance_rows_equal_a_numpy_hand_computation(data):
    assignment, covariates = data
    table = balance_table(assignment, covariates, arms=ARMS)
    assert tuple(table.columns) == BALANCE_COLUMNS
    assert list(dict.fromkeys(table.covariate)) == [
        "age",
        "member",
        "region=east",
        "region=north",
        "region=south",
    ]
    assert list(dict.fromkeys(table.segment)) == [-1, 0, 1, 2, "all"]
    assert set(table.arm) == {"a", "b"}
    merged = assignment.merge(covariates, on="customer_id")
    columns = {
        "age": merged.age.to_numpy(float),
        "member": merged.member.to_numpy(float),
        **{f"region={r}": (merged.region == r).to_numpy(float) for r in ("east", "north", "south")},
    }
    for row in table.itertuples():
        inside = (
            np.ones(len(merged), bool) if row.segment == "all" else (merged.segment == row.segment).to_numpy()
        )
        x = columns[row.covariate]
        arm, control = (
            x[inside & (merged.arm == row.arm).to_numpy()],
            x[inside & (merged.arm == "control").to_numpy()],
        )
        expected = hand_smd(arm, control)
        np.testing.assert_allclose(row.smd, expected, rtol=1e-10)
        np.testing.assert_allclose(row.mean_control, np.nanmean(control), rtol=1e-10)
        np.testing.assert_allclose(row.mean_arm, np.nanmean(arm), rtol=1e-10)
        assert row.flagged == (abs(expected) > 0.1)
    assert table.flagged.any() and not table.flagged.all()


def test_without_arms_the_control_is_the_first_arm_dealt(data):
    assignment, covariates = data
    assert balance_table(assignment, covariates).equals(balance_table(assignment, covariates, arms=ARMS))


def test_constant_covariates_and_tiny_arms():
    assignment = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
            "segment": [0, 0, 0, 0, 1, 1, 1],
            "arm": ["control", "treatment", "control", "treatment", "control", "treatment", "control"],
        }
    )
    covariates = pd.DataFrame(
        {"customer_id": list("abcdefg"), "same": [1.0] * 7, "split": [0.0, 1.0, 0.0, 1.0, 5.0, 5.0, 5.0]}
    )
    table = balance_table(assignment, covariates).set_index(["segment", "covariate"])
    assert table.loc[(0, "same"), "smd"] == 0.0 and not table.loc[(0, "same"), "flagged"]
    # every control customer 0, every treated one 1: no spread, and yet fully apart
    assert table.loc[(0, "split"), "smd"] == np.inf and table.loc[(0, "split"), "flagged"]
    # one treated customer in segment 1: no sample variance, no SMD, not flagged
    assert np.isnan(table.loc[(1, "split"), "smd"]) and not table.loc[(1, "split"), "flagged"]


def test_covariates_need_one_row_per_customer():
    assignment = pd.DataFrame({"customer_id": ["a", "b"], "segment": [0, 0], "arm": ["control", "t"]})
    with pytest.raises(SegmentationError, match="more than one row"):
        balance_table(assignment, pd.DataFrame({"customer_id": ["a", "a"], "x": [1, 2]}))
    with pytest.raises(SegmentationError, match="customer_id column"):
        balance_table(assignment, pd.DataFrame({"id": ["a"], "x": [1]}))


def test_an_identifier_is_not_a_covariate():
    assignment = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(60)], "segment": 0, "arm": ["control", "t"] * 30}
    )
    covariates = pd.DataFrame(
        {"customer_id": assignment.customer_id, "email": [f"{i}@x.org" for i in range(60)]}
    )
    with pytest.raises(SegmentationError, match=r"'email' has 60 distinct values.*at most 50 levels"):
        balance_table(assignment, covariates)
    # the labels' own columns are not covariates
    with_segment = covariates.drop(columns="email").assign(segment=0, age=np.arange(60.0))
    assert set(balance_table(assignment, with_segment).covariate) == {"age"}
