"""Trajectory features against a per-customer loop over pandas period ranges (numpy polyfit for
the slope, statsmodels' acf for the autocorrelation), and a planted population of growing and
fading customers with the same totals that the features separate and totals cannot."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler
from statsmodels.tsa.stattools import acf

from segmentation.errors import SegmentationError
from segmentation.lifecycle.trajectory import (
    RATIO_SCALE_TRAJECTORY,
    TRAJECTORY_COLUMNS,
    trajectory_features,
)

AS_OF = dt.date(2026, 6, 15)


def events(seed: int = 3, n: int = 3000, zone: str | None = "America/New_York") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = pd.Timestamp("2024-09-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 660 * 24, n), unit="h")
    amount = rng.gamma(2.0, 30.0, n).round(2)
    refund = rng.random(n) < 0.12
    return pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{i:03d}" for i in range(150)], n),
            "timestamp": stamps.tz_convert(zone) if zone else stamps.tz_localize(None),
            "amount": np.where(refund, -amount, amount),
        }
    )


def reference(frame: pd.DataFrame, as_of: dt.date, freq: str, window: int) -> pd.DataFrame:
    """One customer at a time, the docstring's formulas in the most literal form."""
    stamps = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
    frame = frame.assign(timestamp=stamps)[stamps < pd.Timestamp(as_of)]
    frame = frame.assign(period=frame["timestamp"].dt.to_period(freq))
    last = pd.Period(pd.Timestamp(as_of), freq) - 1
    periods = pd.period_range(end=last, periods=window, freq=freq)
    rows = []
    for customer, own in frame.groupby("customer_id"):
        purchases = own[own["amount"] >= 0]
        if purchases.empty:
            continue
        observed = periods[periods >= purchases["period"].min()]
        s = np.array([max(own.loc[own["period"] == p, "amount"].sum(), 0.0) for p in observed])
        active = np.array([(purchases["period"] == p).any() for p in observed], dtype=bool)
        n = len(observed)
        t = np.arange(window - n, window)
        total = s.sum()
        recent = s[t >= window - math.ceil(window / 3)].sum()
        bought = [i for i, p in enumerate(periods) if (purchases["period"] == p).any()]
        constant = n == 0 or s.max() == s.min()
        rows.append(
            {
                "customer_id": customer,
                "trajectory_active_share": active.mean() if n else np.nan,
                "trajectory_spend_slope": np.polyfit(t, np.log1p(s), 1)[0] if n >= 3 else np.nan,
                "trajectory_recent_share": recent / total if total > 0 else np.nan,
                "trajectory_spend_cv": s.std() / s.mean() if n and s.mean() > 0 else np.nan,
                "trajectory_autocorrelation": acf(s, nlags=1)[1] if n >= 3 and not constant else np.nan,
                "trajectory_periods_since_active": window - 1 - bought[-1] if bought else window,
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("period", "freq", "window", "zone"),
    [("month", "M", 12, "America/New_York"), ("W", "W", 10, None), ("quarter", "Q", 4, "Asia/Tokyo")],
)
def test_features_equal_a_per_customer_loop(period, freq, window, zone):
    # given a log with refunds, stamps in a time zone and events on and after as_of
    frame = events(zone=zone)
    # when
    features = trajectory_features(frame, as_of=AS_OF, period=period, window=window)
    # then
    expected = reference(frame, AS_OF, freq, window)
    assert list(features.columns) == ["customer_id", *TRAJECTORY_COLUMNS]
    assert features["customer_id"].is_monotonic_increasing
    pd.testing.assert_frame_equal(features, expected, check_dtype=False, atol=1e-9)
    assert features["trajectory_autocorrelation"].notna().mean() > 0.5


def test_events_from_as_of_on_change_nothing():
    frame = events()
    later = pd.DataFrame(
        {
            "customer_id": ["c000", "c001", "new"],
            "timestamp": pd.to_datetime(
                ["2026-06-15T00:00:00Z", "2026-09-01T00:00:00Z", "2026-06-20T00:00:00Z"]
            ),
            "amount": [500.0, 900.0, 50.0],
        }
    )
    both = pd.concat([frame, later.assign(timestamp=later["timestamp"].dt.tz_convert("America/New_York"))])
    pd.testing.assert_frame_equal(
        trajectory_features(both, as_of=AS_OF), trajectory_features(frame, as_of=AS_OF)
    )


def test_a_customer_is_read_from_their_first_purchase_and_refunds_are_no_purchase():
    # given (months; as_of 2026-07-02, so the window is 2025-07 .. 2026-06 and July is incomplete)
    frame = pd.DataFrame(
        {
            "customer_id": ["new", "new", "new", "new", "once", "late", "refund_only", "old", "old"],
            "timestamp": pd.to_datetime(
                [
                    "2026-02-10",  # new: first purchase, 5 months observed (Feb..Jun)
                    "2026-04-03",
                    "2026-06-30 23:59",  # the latest complete month
                    "2026-05-10",  # a refund bigger than May's (no) purchases
                    "2026-05-20",  # once: a single purchase, 2 months observed
                    "2026-07-01 00:10",  # late: bought in the incomplete current month only
                    "2026-01-05",
                    "2024-03-01",  # old: bought before the window only
                    "2026-03-01",  # ... and a refund in it
                ],
                format="ISO8601",
            ),
            "amount": [100.0, 40.0, 60.0, -30.0, 80.0, 20.0, -10.0, 70.0, -70.0],
        }
    )
    # when
    features = trajectory_features(frame, as_of=dt.date(2026, 7, 2)).set_index("customer_id")
    # then
    assert list(features.index) == ["late", "new", "old", "once"]
    new = features.loc["new"]
    s = np.array([100.0, 0, 40, 0, 60])  # May's refund leaves 0, not -30
    assert new["trajectory_active_share"] == pytest.approx(3 / 5)
    assert new["trajectory_spend_slope"] == pytest.approx(np.polyfit(np.arange(5), np.log1p(s), 1)[0])
    assert new["trajectory_recent_share"] == pytest.approx(100 / 200)  # Mar..Jun is the last third
    assert new["trajectory_spend_cv"] == pytest.approx(s.std() / s.mean())
    assert new["trajectory_autocorrelation"] == pytest.approx(acf(s, nlags=1)[1])
    assert new["trajectory_periods_since_active"] == 0
    once = features.loc["once"]
    assert once["trajectory_active_share"] == 0.5 and once["trajectory_recent_share"] == 1.0
    assert np.isnan(once["trajectory_spend_slope"]) and np.isnan(once["trajectory_autocorrelation"])
    assert once["trajectory_periods_since_active"] == 1
    late = features.loc["late"]
    assert late[list(TRAJECTORY_COLUMNS[:-1])].isna().all()
    assert late["trajectory_periods_since_active"] == 12
    old = features.loc["old"]
    assert old["trajectory_active_share"] == 0 and old["trajectory_spend_slope"] == 0
    assert old["trajectory_periods_since_active"] == 12 and np.isnan(old["trajectory_spend_cv"])
    assert {"trajectory_periods_since_active"} == RATIO_SCALE_TRAJECTORY


def planted(seed: int = 0, per_group: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    """Established customers (one purchase long before the window) who buy 4 + Poisson(8) times
    in 12 months with the same basket sizes; growing ones buy more often late, fading ones early."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2025-06", "2026-05", freq="M")
    weight = np.exp(0.3 * np.arange(12))
    rows = []
    truth = np.repeat([0, 1], per_group)
    for i, growing in enumerate(truth == 0):
        p = (weight if growing else weight[::-1]) / weight.sum()
        count = 4 + rng.poisson(8)
        month = rng.choice(12, size=count, p=p)
        start = months[month].to_timestamp()
        stamps = start + pd.to_timedelta(rng.integers(0, 28 * 24, count), unit="h")
        amount = rng.lognormal(3.5, 0.6, count).round(2)
        rows.append(pd.DataFrame({"customer_id": i, "timestamp": stamps, "amount": amount}))
        rows.append(
            pd.DataFrame({"customer_id": [i], "timestamp": [pd.Timestamp("2023-01-15")], "amount": [5.0]})
        )
    return pd.concat(rows, ignore_index=True), truth


def test_growing_customers_slope_up_and_fading_ones_down():
    months = pd.period_range("2025-06", "2026-05", freq="M").to_timestamp() + pd.Timedelta(days=3)
    frame = pd.DataFrame(
        {
            "customer_id": ["up"] * 12 + ["down"] * 12,
            "timestamp": list(months) * 2,
            "amount": list(np.arange(1, 13) * 10.0) + list(np.arange(12, 0, -1) * 10.0),
        }
    )
    features = trajectory_features(frame, as_of=dt.date(2026, 6, 1)).set_index("customer_id")
    assert features.loc["up", "trajectory_spend_slope"] > 0 > features.loc["down", "trajectory_spend_slope"]
    assert (
        features.loc["up", "trajectory_recent_share"]
        > 1 / 3
        > features.loc["down", "trajectory_recent_share"]
    )

    simulated, truth = planted()
    slopes = trajectory_features(simulated, as_of=dt.date(2026, 6, 1))["trajectory_spend_slope"].to_numpy()
    assert (slopes[truth == 0] > 0).mean() > 0.95 and (slopes[truth == 1] < 0).mean() > 0.95


def test_clustering_separates_growing_from_fading_where_totals_cannot():
    # given growing and fading customers with the same distribution of purchases and spend
    frame, truth = planted()
    features = trajectory_features(frame, as_of=dt.date(2026, 6, 1))
    totals = frame.groupby("customer_id")["amount"].agg(["sum", "size"]).loc[features["customer_id"]]
    # when each is standardised and cut into two by k-means
    X = features[list(TRAJECTORY_COLUMNS)].to_numpy()
    assert not np.isnan(X).any()

    def two_means(values: np.ndarray) -> np.ndarray:
        scaled = StandardScaler().fit_transform(values)
        return KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(scaled)

    # then the trajectories find the two groups and the totals do not
    assert adjusted_rand_score(truth, two_means(X)) >= 0.9
    assert adjusted_rand_score(truth, two_means(totals.to_numpy(dtype=float))) < 0.05


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"period": "day"}, "Unknown trajectory period 'day'"),
        ({"window": 2}, "at least 3; got 2"),
        ({"window": 6.0}, "whole number of periods"),
        ({"as_of": "2026-06-15"}, "as_of must be a date"),
        ({"as_of": dt.datetime(2026, 6, 15, 12)}, "as_of must be a date"),
        ({"as_of": dt.date(2020, 1, 1)}, "No purchase .* before as_of 2020-01-01"),
    ],
)
def test_bad_arguments_get_a_clear_message(change, message):
    arguments = {"as_of": AS_OF, "period": "month", "window": 12} | change
    with pytest.raises(SegmentationError, match=message):
        trajectory_features(events(), **arguments)


def test_unusable_events_get_a_clear_message():
    good = {"customer_id": ["a"], "timestamp": ["2026-01-01"], "amount": [1.0]}
    cases = [
        ({k: v for k, v in good.items() if k != "amount"}, "need the column\\(s\\) amount"),
        (good | {"customer_id": [None]}, "1 events have no customer_id"),
        (good | {"timestamp": ["not a date"]}, "1 events have no readable timestamp"),
        (good | {"amount": ["ten"]}, "1 events have no numeric amount"),
        (good | {"amount": [-5.0]}, "No purchase"),
    ]
    for columns, message in cases:
        with pytest.raises(SegmentationError, match=message):
            trajectory_features(pd.DataFrame(columns), as_of=AS_OF)
