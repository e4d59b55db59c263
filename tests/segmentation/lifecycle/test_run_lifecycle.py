"""The lifecycle models inside a run: the ``clv`` and ``trajectory`` groups, ``metrics.json`` →
``clv``, and the lifecycle report, on logs drawn from the models with known parameters."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from segmentation import SegmentationError, SegmentationSpec, segment
from segmentation.errors import SpecError
from segmentation.lifecycle.clv import clv_for_log
from segmentation.lifecycle.report import MOVER_PERIODS, MOVER_THRESHOLD
from segmentation.lifecycle.trajectory import TRAJECTORY_COLUMNS
from segmentation.result import RunMetrics
from tests.segmentation.later_log import AS_OF as PLANTED_AS_OF
from tests.segmentation.later_log import planted_log

from .simulated_log import TRUTH, simulated_log

AS_OF = "2025-01-01"
BASE = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "as_of": AS_OF,
    "k_min": 2,
    "k_max": 4,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return simulated_log(2_000, seed=3)


@pytest.fixture(scope="module")
def default_run(log: pd.DataFrame):  # type: ignore[no-untyped-def]
    return segment(log, SegmentationSpec.from_dict(BASE))


def test_the_default_run_values_every_customer_as_the_models_do_and_never_clusters_on_it(log, default_run):
    features = default_run.features.set_index("customer_id")
    expected, metrics = clv_for_log(log, dt.date.fromisoformat(AS_OF), 365, 0.1)
    expected = expected.set_index("customer_id").loc[features.index]
    for column in ("p_alive", "expected_purchases_365", "clv_365"):
        np.testing.assert_allclose(features[column].to_numpy(), expected[column].to_numpy(), rtol=1e-12)
    assert not {"p_alive", "clv_365", "expected_purchases_365"} & set(default_run.model.features)
    assert "prediction of the CLV model" in default_run.metrics["features_left_out"]["clv_365"]
    assert default_run.metrics["feature_groups"][-1] == "clv"
    assert default_run.metrics["clv"] == metrics


def test_metrics_json_clv_holds_the_fitted_models_near_the_simulation_truth(default_run):
    clv = json.loads(json.dumps(default_run.metrics["clv"], allow_nan=False))
    assert set(clv) >= {"time_unit", "bgnbd", "gamma_gamma", "log_likelihood", "customers", "holdout"}
    assert clv["time_unit"] == "weeks" and set(clv["bgnbd"]) == {"r", "alpha", "a", "b"}
    assert set(clv["gamma_gamma"]) == {"p", "q", "v"}
    # 2,000 customers: the shape parameters within 30% of the truth the log was drawn from
    for name, truth in TRUTH.items():
        assert clv["bgnbd"][name] == pytest.approx(truth, rel=0.3), name
    holdout = clv["holdout"]
    assert holdout["as_of"] == AS_OF and holdout["predicted"] == pytest.approx(holdout["actual"], rel=0.15)
    typed = RunMetrics.from_dict(default_run.metrics).clv
    assert typed is not None and typed.bgnbd == clv["bgnbd"] and typed.holdout is not None
    assert not typed.pooled


def test_horizon_and_discount_rate_name_and_move_the_columns(log):
    near = segment(
        log, SegmentationSpec.from_dict({**BASE, "clv_horizon_days": 90, "clv_discount_rate": 0.0})
    )
    far = segment(log, SegmentationSpec.from_dict({**BASE, "clv_horizon_days": 90, "clv_discount_rate": 0.5}))
    a, b = near.features.set_index("customer_id"), far.features.set_index("customer_id")
    assert {"expected_purchases_90", "clv_90"} <= set(a.columns) and "clv_365" not in a.columns
    np.testing.assert_allclose(a["expected_purchases_90"], b["expected_purchases_90"])
    assert (b["clv_90"] <= a["clv_90"] + 1e-9).all() and (b["clv_90"] < a["clv_90"]).mean() > 0.5


def test_naming_groups_without_clv_leaves_it_out_and_trajectory_is_clustered(log):
    run = segment(log, SegmentationSpec.from_dict({**BASE, "features": ["rfm", "trajectory"]}))
    assert "clv" not in run.metrics and "p_alive" not in run.features.columns
    clustered = set(run.model.features)
    assert clustered & set(TRAJECTORY_COLUMNS), clustered
    assert run.metrics["feature_groups"] == ["rfm", "trajectory"]


def test_the_lifecycle_report_adds_up_and_is_plain_json(log, default_run):
    summary = default_run.lifecycle.summary
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    assert default_run.metrics["lifecycle"] == summary
    customers = default_run.lifecycle.customers
    assert len(customers) == len(default_run.labels)
    clv = summary["clv"]
    assert sum(r["clv_total"] for r in clv["by_segment"]) == pytest.approx(clv["total"])
    assert sum(r["clv_share"] for r in clv["by_segment"]) == pytest.approx(1.0)
    assert clv["total"] == pytest.approx(customers["clv_365"].sum())
    cohorts = summary["cohorts"]
    assert sum(cohorts["customers"]) + cohorts["older_customers"] == customers["p_alive"].notna().sum()
    states = summary["states"]
    matrix = np.array(states["transition_matrix"])
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert sum(states["next_period"].values()) == pytest.approx(1.0)
    assert states["through"] == "2024-12"  # the last complete month before as_of


def test_movers_are_the_customers_likely_to_turn_dormant(default_run):
    report = default_run.lifecycle
    if report.summary["states"]["dormant"] is None:
        pytest.skip("no dormant state fitted on this log")
    movers, customers = report.movers, report.customers.set_index("customer_id")
    column = f"dormant_within_{MOVER_PERIODS}"
    likely = customers[(customers[column] >= MOVER_THRESHOLD) & (customers["lifecycle_state"] != "dormant")]
    assert set(movers["customer_id"]) == set(likely.index)
    assert (movers["probability"].diff().dropna() <= 0).all()
    assert report.summary["movers"]["customers"] == len(movers)


def test_a_spend_model_that_cannot_tell_customers_apart_values_them_at_the_pooled_mean():
    log = planted_log().drop(columns="planted")
    run = segment(log, SegmentationSpec.from_dict({**BASE, "as_of": PLANTED_AS_OF, "k_min": 3, "k_max": 3}))
    clv = run.metrics["clv"]
    assert clv["gamma_gamma"] is None and "pooled mean" in clv["pooled_spend"]["reason"]
    typed = RunMetrics.from_dict(run.metrics).clv
    assert typed is not None and typed.pooled and typed.pooled_spend_mean == clv["pooled_spend"]["mean"]


def test_clv_asked_for_on_a_log_it_cannot_model_is_refused_and_by_default_skipped():
    rng = np.random.default_rng(0)
    log = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(60)],
            "timestamp": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 200, 60), unit="D"),
            "amount": rng.gamma(2.0, 20.0, 60).round(2),
        }
    )
    with pytest.raises(SegmentationError, match="'clv' feature group cannot be computed: only 0 customer"):
        segment(log, SegmentationSpec.from_dict({**BASE, "features": ["rfm", "clv"]}))
    run = segment(log, SegmentationSpec.from_dict(BASE))
    assert "bought on more than one day" in run.metrics["feature_groups_skipped"]["clv"]
    assert "clv" not in run.metrics and run.lifecycle.summary["clv"] is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("clv_horizon_days", 0, "'clv_horizon_days' must be a whole number of days from 1 to 3,660"),
        ("clv_horizon_days", 30.5, "'clv_horizon_days' must be a whole number"),
        ("clv_discount_rate", 1.0, "'clv_discount_rate' must be an annual rate from 0 up to"),
        ("clv_discount_rate", "10%", "'clv_discount_rate' must be an annual rate"),
        ("lifecycle_period", "day", "'lifecycle_period' must be one of month, week, quarter"),
    ],
)
def test_bad_lifecycle_keys_are_refused_naming_the_key(key, value, message):
    with pytest.raises(SpecError, match=message):
        SegmentationSpec.from_dict({**BASE, key: value})
