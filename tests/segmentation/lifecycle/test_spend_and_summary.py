"""The Gamma-Gamma spend model on CDNOW, and the customer summary the models read from a log."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation.data.transactions import Events
from segmentation.errors import SegmentationError
from segmentation.lifecycle import gamma_gamma
from segmentation.lifecycle.summary import COLUMNS, events_frame, summarise
from tests.segmentation.lifecycle import cdnow

# Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves for customer base
# analysis", and Fader and Hardie's note 025: p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers.
PUBLISHED_SPEND = {"p": 6.25, "q": 3.74, "v": 15.4}
# Note 025's spreadsheet (and lifetimes' tests): the first ten customers' conditional expected spend.
SPREADSHEET_SPEND = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]


@pytest.fixture(scope="module")
def spend():
    frame = cdnow.published_summary()
    return gamma_gamma.fit(frame["x"], frame["zbar"])


def test_gamma_gamma_on_cdnow_equals_the_published_estimates(spend):
    assert {k: float(f"{v:.3g}") for k, v in spend.params().items()} == PUBLISHED_SPEND
    assert round(spend.v, 2) == pytest.approx(15.44, abs=0.01)
    assert spend.customers == 946


def test_gamma_gamma_likelihood_and_expected_spend_equal_the_integrated_posterior(spend):
    at = np.array([spend.p, spend.q, spend.v])
    for x, zbar in [(2, 22.35), (1, 11.77), (6, 71.0), (40, 12.5)]:
        log_density, expected = cdnow.gamma_gamma_posterior(spend.params(), x, zbar)
        assert gamma_gamma.log_likelihood(at, np.array([x]), np.array([zbar]))[0] == pytest.approx(
            log_density, rel=1e-9
        )
        assert spend.expected_spend([x], [zbar])[0] == pytest.approx(expected, rel=1e-9)


def test_expected_spend_equals_hardies_spreadsheet_and_the_population_mean_without_repeats(spend):
    # The spreadsheet works with the unrounded estimates, so the fitted model is compared with it.
    frame = cdnow.published_summary().head(10)
    assert spend.expected_spend(frame["x"], frame["zbar"]) == pytest.approx(SPREADSHEET_SPEND, abs=0.01)
    assert spend.expected_spend([0], [0.0])[0] == pytest.approx(spend.p * spend.v / (spend.q - 1), rel=1e-12)


def test_spend_model_refuses_logs_without_repeat_spend():
    with pytest.raises(SegmentationError, match="needs repeat buyers with a positive spend"):
        gamma_gamma.fit([0, 0, 0], [0.0, 0.0, 0.0])
    with pytest.raises(SegmentationError, match="mean spends differ"):
        gamma_gamma.fit([1, 2, 0], [10.0, 10.0, 0.0])
    heavy = gamma_gamma.GammaGamma(p=2.0, q=0.8, v=3.0, log_likelihood=0.0, customers=5)
    with pytest.raises(SegmentationError, match="no finite population mean"):
        heavy.expected_spend([0, 3], [0.0, 12.0])


def test_the_cdnow_log_as_of_october_1997_gives_the_published_summary_exactly():
    summary = summarise(cdnow.events(), cdnow.CALIBRATION_END)
    published = cdnow.published_summary()
    assert list(summary.columns) == list(COLUMNS)
    assert summary["customer_id"].tolist() == published["ID"].tolist()
    assert summary["frequency"].tolist() == published["x"].tolist()
    assert summary["recency"].round(2).tolist() == published["t_x"].tolist()
    assert summary["T"].round(2).tolist() == published["T"].tolist()
    np.testing.assert_allclose(summary["mean_repeat_spend"], published["zbar"], atol=0.0051)


def test_summary_counts_purchase_days_before_as_of_and_ignores_refunds():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "b", "b", "c"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:00",  # the same day: one purchase occasion, spend summed
                    "2024-01-15",
                    "2024-01-20",  # a refund: no purchase
                    "2024-02-01",  # on as_of: after the period
                    "2024-01-10",
                    "2024-01-24",
                    "2024-01-31",
                ],
                format="ISO8601",
            ),
            "amount": [10.0, 5.0, 30.0, -30.0, 99.0, 0.0, 8.0, 4.0],
        }
    )
    summary = summarise(events, dt.date(2024, 2, 1)).set_index("customer_id")
    # Reference: the same rules spelled out in pandas.
    kept = events[(events["amount"] >= 0) & (events["timestamp"] < "2024-02-01")]
    days = kept.groupby(["customer_id", kept["timestamp"].dt.normalize()])["amount"].sum().reset_index()
    for customer, group in days.groupby("customer_id"):
        first, last = group["timestamp"].min(), group["timestamp"].max()
        row = summary.loc[customer]
        assert row["frequency"] == len(group) - 1
        assert row["recency"] == (last - first).days / 7
        assert row["T"] == (pd.Timestamp("2024-01-31") - first).days / 7
        assert row["mean_repeat_spend"] == (group["amount"].iloc[1:].mean() if len(group) > 1 else 0.0)
    assert summary.loc["a", "mean_repeat_spend"] == 30.0 and summary.loc["a", "frequency"] == 1
    assert summary.loc["c", "T"] == 0.0


def test_summary_reads_the_platforms_clean_log():
    frame = pd.DataFrame(
        {
            "customer_id": pd.Categorical(["x", "x", "y"]),
            "t": np.array([0, 86_400 * 14, 86_400 * 7], dtype=np.int64),
            "cents": np.array([1_250, 3_000, 500], dtype=np.int64),
            "refund": np.array([False, False, True]),
        }
    )
    summary = summarise(events_frame(Events(frame=frame, quality={})), dt.date(1970, 1, 30))
    assert summary["customer_id"].tolist() == ["x"]  # y only refunded
    assert summary.iloc[0][["frequency", "recency", "T", "mean_repeat_spend"]].tolist() == [1, 2.0, 4.0, 30.0]


def test_summary_refuses_a_log_without_purchases_or_columns():
    events = pd.DataFrame(
        {"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-03-01"]), "amount": [5.0]}
    )
    with pytest.raises(SegmentationError, match=r"no purchase .* before as_of 2024-01-01"):
        summarise(events, dt.date(2024, 1, 1))
    with pytest.raises(SegmentationError, match=r"needs the column\(s\) amount"):
        summarise(events.drop(columns="amount"), dt.date(2024, 6, 1))
