"""The heavy-tail rule: which numeric columns the field's defaults log before z-scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import skew

from segmentation.data.heavy_tails import SAMPLE_ROWS, decide_transform, field_transforms, skewness


def _shapes(n: int, seed: int) -> dict[str, tuple[np.ndarray, str]]:
    """Columns of the shapes customer data has, each with the decision the rule must reach."""
    rng = np.random.default_rng(seed)
    zero_money = np.where(rng.random(n) < 0.6, 0.0, rng.lognormal(4, 1, n))
    return {
        "lognormal_money": (rng.lognormal(3.5, 1.0, n), "log1p"),
        "pareto_money": ((rng.pareto(1.5, n) + 1) * 20, "log1p"),
        "geometric_orders": (rng.negative_binomial(1, 0.15, n).astype(float), "log1p"),
        "zero_inflated_orders": (
            np.where(rng.random(n) < 0.6, 0, rng.negative_binomial(2, 0.1, n)).astype(float),
            "log1p",
        ),
        "zero_inflated_money": (zero_money, "log1p"),
        "poisson_visits": (rng.poisson(3, n).astype(float), "zscore"),
        "sparse_counts": (rng.poisson(0.3, n).astype(float), "zscore"),
        "uniform_tenure": (rng.uniform(0, 120, n), "zscore"),
        "normal_age": (rng.normal(45, 12, n).clip(18), "zscore"),
        "refund_rate": (rng.beta(0.3, 8, n), "zscore"),
        "q4_share": (rng.beta(2, 5, n), "zscore"),
        "is_member": ((rng.random(n) < 0.05).astype(float), "zscore"),
        "net_spend_with_refunds": (rng.lognormal(3, 1, n) - 25, "zscore"),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_logs_heavy_tailed_money_and_counts_and_nothing_else(seed):
    shapes = _shapes(20_000, seed)
    frame = pd.DataFrame({name: values for name, (values, _) in shapes.items()})
    decisions = field_transforms(frame, list(frame.columns), random_state=seed)
    assert {c: d.transform for c, d in decisions.items()} == {c: want for c, (_, want) in shapes.items()}


def test_each_decision_says_why_in_words():
    shapes = _shapes(5_000, 3)
    why = {c: decide_transform(c, values).why for c, (values, _) in shapes.items()}
    assert why["lognormal_money"].startswith("heavy right tail: skewness")
    assert why["refund_rate"] == "a share between 0 and 1"
    assert why["is_member"] == "two values at most: a flag"
    assert "negative values" in why["net_spend_with_refunds"]
    assert why["normal_age"].startswith("roughly symmetric")
    assert "a log does not make it symmetric" in why["sparse_counts"]


def test_its_skewness_is_scipys():
    rng = np.random.default_rng(4)
    for values in (rng.lognormal(0, 1, 3000), rng.normal(0, 1, 3000), rng.poisson(2, 3000) * 1.0):
        assert skewness(values) == pytest.approx(skew(values), rel=1e-9, abs=1e-12)


def test_it_decides_on_a_sample_as_on_the_whole_table():
    shapes = _shapes(3 * SAMPLE_ROWS, 5)
    frame = pd.DataFrame({name: values for name, (values, _) in shapes.items()})
    sampled = field_transforms(frame, list(frame.columns), random_state=0)
    whole = {c: decide_transform(c, frame[c].to_numpy()) for c in frame.columns}
    assert {c: d.transform for c, d in sampled.items()} == {c: d.transform for c, d in whole.items()}
    # and the skewness it reports is near the whole column's where the moments exist
    assert sampled["lognormal_money"].skewness == pytest.approx(whole["lognormal_money"].skewness, rel=0.2)


def test_a_single_negative_refund_rules_the_log_out_even_outside_the_sample():
    rng = np.random.default_rng(6)
    money = rng.lognormal(3, 1, 2 * SAMPLE_ROWS)
    money[-1] = -5.0  # one refund-only customer
    frame = pd.DataFrame({"monetary_net": money})
    assert field_transforms(frame, ["monetary_net"])["monetary_net"].transform == "zscore"


def test_missing_cells_are_left_out_of_the_decision():
    rng = np.random.default_rng(7)
    money = rng.lognormal(3, 1, 4000)
    money[::7] = np.nan
    assert decide_transform("m", money).transform == "log1p"
    assert decide_transform("empty", np.full(10, np.nan)).transform == "zscore"


def test_amounts_counts_and_durations_of_a_log_are_logged_as_log_rfm_whatever_their_skew():
    rng = np.random.default_rng(4)
    n = 5_000
    frame = pd.DataFrame(
        {
            "frequency": rng.poisson(12, n).astype(float) + 1,  # skewness about 0.3: z-scored in a table
            "monetary_mean": rng.gamma(20, 3, n),
            "refund_rate": rng.beta(1, 20, n),  # a share stays a share
            "has_refund": (rng.random(n) < 0.1).astype(float),  # a flag stays a flag
            "net_spend": rng.normal(100, 40, n),  # negatives rule a log out
        }
    )
    named = frozenset(frame.columns)
    decisions = field_transforms(frame, list(frame.columns), ratio_scale=named)
    assert {c: d.transform for c, d in decisions.items()} == {
        "frequency": "log1p",
        "monetary_mean": "log1p",
        "refund_rate": "zscore",
        "has_refund": "zscore",
        "net_spend": "zscore",
    }
    assert "log-RFM" in decisions["frequency"].why
    assert decisions["frequency"].skewness == pytest.approx(skew(frame["frequency"]), abs=1e-3)
    plain = field_transforms(frame, ["frequency", "monetary_mean"])  # the same columns of an upload
    assert {d.transform for d in plain.values()} == {"zscore"}
