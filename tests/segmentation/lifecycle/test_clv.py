"""CLV features, the ``clv`` metrics and the calibration/holdout check on the CDNOW log."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.lifecycle.clv import clv_features, clv_for_log, clv_metrics, fit_clv, holdout_check
from segmentation.lifecycle.summary import summarise
from tests.segmentation.lifecycle import cdnow


@pytest.fixture(scope="module")
def summary():
    return summarise(cdnow.events(), cdnow.CALIBRATION_END)


@pytest.fixture(scope="module")
def model(summary):
    return fit_clv(summary)


def test_features_are_named_by_horizon_and_cover_every_customer(summary, model):
    features = clv_features(summary, 365, 0.1, model)
    assert list(features.columns) == ["customer_id", "p_alive", "expected_purchases_365", "clv_365"]
    assert features["customer_id"].tolist() == summary["customer_id"].tolist()
    assert features["p_alive"].between(0, 1).all() and (features["clv_365"] >= 0).all()
    one_time = summary["frequency"].to_numpy() == 0
    assert (features["p_alive"].to_numpy()[one_time] == 1.0).all()  # BG/NBD: no dropout before a repeat


def test_clv_is_the_discounted_sum_of_integrated_expected_purchases_over_weekly_steps(summary, model):
    # Customer 1 (x = 2, t_x = 30.43, T = 38.86, z̄ = 22.35) over 28 days at 10% a year: four weekly
    # steps, each step's expected purchases from the numerically integrated posterior, discounted
    # to the step's end, times the Gamma-Gamma expected spend from its integrated posterior.
    row = summary.iloc[[0]]
    x, t_x, T, zbar = (float(row[c].iloc[0]) for c in ("frequency", "recency", "T", "mean_repeat_spend"))
    params = model.purchases.params()
    cumulative = [0.0] + [cdnow.bgnbd_posterior(params, int(x), t_x, T, t=k)[1] for k in (1.0, 2.0, 3.0, 4.0)]
    discount = [1.1 ** (-7 * k / 365.25) for k in (1, 2, 3, 4)]
    purchases = sum(d * (b - a) for d, a, b in zip(discount, cumulative[:-1], cumulative[1:], strict=True))
    spend = cdnow.gamma_gamma_posterior(model.spend.params(), int(x), zbar)[1]
    features = clv_features(row, 28, 0.1, model)
    assert features["expected_purchases_28"].iloc[0] == pytest.approx(cumulative[-1], rel=1e-7)
    assert features["clv_28"].iloc[0] == pytest.approx(spend * purchases, rel=1e-7)


def test_a_horizon_between_weeks_ends_with_a_short_step_and_no_discount_is_spend_times_purchases(
    summary, model
):
    rows = summary.iloc[:50]
    x, t_x, T = (rows[c].to_numpy() for c in ("frequency", "recency", "T"))
    spend = model.spend.expected_spend(rows["frequency"], rows["mean_repeat_spend"])
    week, ten_days = (model.purchases.expected_purchases(d / 7, x, t_x, T) for d in (7, 10))
    features = clv_features(rows, 10, 0.05, model)
    expected = spend * (week / 1.05 ** (7 / 365.25) + (ten_days - week) / 1.05 ** (10 / 365.25))
    np.testing.assert_allclose(features["clv_10"], expected, rtol=1e-12)
    undiscounted = clv_features(rows, 365, 0.0, model)
    np.testing.assert_allclose(
        undiscounted["clv_365"], spend * undiscounted["expected_purchases_365"], rtol=1e-12
    )
    assert (clv_features(rows, 365, 0.2, model)["clv_365"] < undiscounted["clv_365"]).all()


@pytest.mark.parametrize(
    ("horizon", "rate", "key"),
    [(0, 0.1, "clv_horizon_days"), (36.5, 0.1, "clv_horizon_days"), (True, 0.1, "clv_horizon_days"),
     (365, 1.5, "clv_discount_rate"), (365, -0.1, "clv_discount_rate"), (365, "10%", "clv_discount_rate")],
)  # fmt: skip
def test_bad_horizon_or_rate_is_refused_naming_the_spec_key(summary, model, horizon, rate, key):
    with pytest.raises(SegmentationError) as error:
        clv_features(summary, horizon, rate, model)
    assert error.value.key == key and key in str(error.value)


def test_a_log_where_every_customer_bought_once_is_refused_with_a_clear_message():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "a"],
            "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09", "2024-01-02"]),
            "amount": [10.0, 20.0, 5.0, 3.0],  # a's two orders share a day: one purchase occasion
        }
    )
    summary = summarise(events, dt.date(2024, 2, 1))
    with pytest.raises(
        SegmentationError, match="needs repeat buyers: none of the 3 customers bought on a second day"
    ):
        clv_features(summary, 365, 0.1)


def test_holdout_check_counts_the_purchase_days_after_as_of_and_compares_with_the_model(summary, model):
    check = holdout_check(cdnow.events(), cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, model.purchases)
    # Reference: distinct purchase days in Oct 1997 – Jun 1998 per calibration customer, in pandas.
    raw = cdnow.raw_log()
    later = raw[(raw["date"] >= "19971001") & (raw["date"] < "19980701") & (raw["amount"] >= 0)]
    actual = later.drop_duplicates(["customer_id", "date"]).groupby("customer_id").size()
    actual = actual.reindex(summary["customer_id"], fill_value=0)
    predicted = model.purchases.expected_purchases(
        39.0, summary["frequency"], summary["recency"], summary["T"]
    )
    assert check["weeks"] == 39.0 and check["customers"] == 2357
    assert check["actual"] == actual.sum()
    assert check["predicted"] == pytest.approx(predicted.sum(), rel=1e-12)
    assert check["mean_absolute_error"] == pytest.approx(
        np.abs(predicted - actual.to_numpy()).mean(), rel=1e-12
    )
    groups = np.minimum(summary["frequency"].to_numpy(), 7)
    table = pd.DataFrame({"group": groups, "actual": actual.to_numpy(), "predicted": predicted})
    means = table.groupby("group").mean()
    assert [row["frequency"] for row in check["by_frequency"]] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [row["customers"] for row in check["by_frequency"]] == table.groupby("group").size().tolist()
    np.testing.assert_allclose([row["actual_mean"] for row in check["by_frequency"]], means["actual"])
    np.testing.assert_allclose([row["predicted_mean"] for row in check["by_frequency"]], means["predicted"])
    # The fit the paper reports: BG/NBD tracks the holdout within about 15% in total on this sample.
    assert check["predicted"] == pytest.approx(check["actual"], rel=0.15)


def test_holdout_must_end_after_as_of():
    with pytest.raises(SegmentationError, match="must end after as_of"):
        holdout_check(cdnow.events(), cdnow.CALIBRATION_END, cdnow.CALIBRATION_END)


def test_metrics_follow_the_contract(model):
    metrics = clv_metrics(model, holdout={"weeks": 39.0})
    assert metrics == {
        "time_unit": "weeks",
        "bgnbd": model.purchases.params(),
        "gamma_gamma": model.spend.params(),
        "log_likelihood": model.purchases.log_likelihood,
        "customers": 2357,
        "holdout": {"weeks": 39.0},
    }
    assert set(metrics["bgnbd"]) == {"r", "alpha", "a", "b"} and set(metrics["gamma_gamma"]) == {
        "p",
        "q",
        "v",
    }
    assert round(metrics["log_likelihood"], 1) == -9582.4
    assert "holdout" not in clv_metrics(model)


def test_a_log_running_past_as_of_gets_features_metrics_and_the_holdout_to_its_last_day(model):
    features, metrics = clv_for_log(cdnow.events(), cdnow.CALIBRATION_END, 182, 0.08)
    summary = summarise(cdnow.events(), cdnow.CALIBRATION_END)
    pd.testing.assert_frame_equal(features, clv_features(summary, 182, 0.08, model))
    # The CDNOW log ends on 1998-06-30: the holdout is the published one, weeks 40–78.
    assert metrics["holdout"] == holdout_check(
        cdnow.events(), cdnow.CALIBRATION_END, cdnow.HOLDOUT_END, model.purchases
    )
    _, without = clv_for_log(cdnow.events(), cdnow.HOLDOUT_END, 182, 0.08)
    assert "holdout" not in without and without["customers"] == 2357
