"""Customer features from a transaction log: exact values, no leakage, engines that agree."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import TruncatedSVD

from segmentation import SegmentationError, SegmentationSpec
from segmentation.data.aggregate import aggregate, lean_events
from segmentation.data.features import customer_features, day_number
from segmentation.data.transactions import clean_transactions
from segmentation.synthetic.transactions import transaction_log

AS_OF = dt.date(2024, 4, 1)
SPEC = SegmentationSpec.from_dict(
    {
        "id_column": "cust",
        "input_kind": "transactions",
        "timestamp_column": "when",
        "amount_column": "amount",
        "category_column": "category",
    }
)
# A: three purchases and a refund; B: one purchase; C: two purchases in Q4 of the year before.
# The last two rows happen after as_of and must change nothing.
HAND = [
    ("A", "2024-01-01", "10.00", "grocery"),
    ("A", "2024-01-02", "20.00", "toys"),
    ("A", "2024-03-01", "-5.00", "grocery"),
    ("A", "2024-03-10", "30.00", "toys"),
    ("B", "2024-02-15", "100", "grocery"),
    ("C", "2023-10-15", "40", "toys"),
    ("C", "2023-11-20", "60", "toys"),
    ("A", "2024-05-01", "999", "garden"),
    ("D", "2024-06-01", "5", "garden"),
]


def events_of(rows):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(rows, columns=["cust", "when", "amount", "category"], dtype=object)
    return clean_transactions(frame, SPEC).frame


@pytest.fixture(scope="module")
def hand() -> pd.DataFrame:
    return customer_features(events_of(HAND), as_of=AS_OF).frame.set_index("customer_id")


def test_rfm_features_match_the_hand_computed_values(hand):
    assert hand.index.tolist() == ["A", "B", "C"]  # D has no event before as_of
    assert hand["recency_days"].tolist() == [22, 46, 133]
    assert hand["frequency"].tolist() == [3, 1, 2]
    assert hand["monetary_total"].tolist() == [60.0, 100.0, 100.0]  # the refund is not a purchase
    assert hand["monetary_mean"].tolist() == [20.0, 100.0, 50.0]
    assert hand["refund_rate"].tolist() == [0.25, 0.0, 0.0]


def test_temporal_features_match_the_hand_computed_values(hand):
    assert hand["tenure_days"].tolist() == [91, 46, 169]
    assert hand["active_months"].tolist() == [2, 1, 2]
    # A's gaps are 1 and 68 days: mean (68 + 1) / 2, spread |68 - 1| / 2; B has one purchase.
    assert hand["interval_mean_days"].tolist()[::2] == [34.5, 36.0]
    assert hand["interval_std_days"].tolist()[::2] == [33.5, 0.0]
    assert np.isnan(hand.loc["B", "interval_mean_days"]) and np.isnan(hand.loc["B", "interval_std_days"])
    assert hand["interval_missing"].tolist() == [0, 1, 0]
    decayed_a = 10 * 0.5 ** (91 / 90) + 20 * 0.5 ** (90 / 90) + 30 * 0.5 ** (22 / 90)
    assert hand.loc["A", "decayed_spend"] == pytest.approx(decayed_a, abs=1e-5)
    assert hand.loc["B", "decayed_spend"] == pytest.approx(100 * 0.5 ** (46 / 90), abs=1e-5)


def test_window_features_match_the_hand_computed_values(hand):
    assert hand["spend_30d"].tolist() == [30.0, 0.0, 0.0]
    assert hand["count_30d"].tolist() == [1, 0, 0]
    assert hand["spend_90d"].tolist() == [50.0, 100.0, 0.0]  # 2024-01-02 is exactly 90 days old
    assert hand["count_90d"].tolist() == [2, 1, 0]
    assert hand["spend_180d"].tolist() == [60.0, 100.0, 100.0]
    assert hand["count_180d"].tolist() == [3, 1, 2]
    assert hand["momentum_90d"].tolist() == pytest.approx([40 / 60, 1.0, -1.0])


def test_diversity_and_seasonality_match_the_hand_computed_values(hand):
    assert hand["category_count"].tolist() == [2, 1, 1]
    entropy_a = -(1 / 6) * math.log2(1 / 6) - (5 / 6) * math.log2(5 / 6)
    assert hand["category_entropy"].tolist() == pytest.approx([entropy_a, 0.0, 0.0], abs=1e-12)
    assert hand["q4_share"].tolist() == [0.0, 0.0, 1.0]
    assert hand["top_quarter_share"].tolist() == [1.0, 1.0, 1.0]


def test_the_affinity_embedding_is_scikit_learns_truncated_svd_of_spend_shares(hand):
    shares = np.array([[1 / 6, 5 / 6], [1.0, 0.0], [0.0, 1.0]])  # grocery, toys
    expected = TruncatedSVD(n_components=1, algorithm="arpack", random_state=0).fit_transform(shares)
    assert [c for c in hand.columns if c.startswith("affinity_")] == ["affinity_1"]
    assert hand["affinity_1"].to_numpy() == pytest.approx(expected[:, 0], abs=1e-9)


def test_events_after_as_of_never_change_a_feature():
    log, _ = transaction_log(400, seed=3)
    log = log.astype({"category": str})
    spec = SegmentationSpec.from_dict(
        {**SPEC.to_dict(), "id_column": "customer_id", "timestamp_column": "timestamp"}
    )
    as_of = dt.date(2025, 3, 1)
    before = clean_transactions(log, spec).frame
    future = log.sample(3000, replace=True, random_state=1).reset_index(drop=True)
    future["timestamp"] = pd.Timestamp("2025-03-01") + pd.to_timedelta(np.arange(3000) * 600, unit="s")
    future["amount"] = future["amount"] * 7 - 3  # other amounts, some refunds
    future.loc[::3, "category"] = "never seen before"
    future.loc[::5, "customer_id"] = "C9999999"  # a customer who only appears later
    both = clean_transactions(pd.concat([log, future]), spec).frame
    assert len(both) == len(before) + 3000
    for engine in ("duckdb", "pandas", "numpy"):
        past = customer_features(before, as_of=as_of, engine=engine)
        later = customer_features(both, as_of=as_of, engine=engine)
        pd.testing.assert_frame_equal(past.frame, later.frame, check_exact=True)
        assert past.feature_columns == later.feature_columns


def test_duckdb_pandas_and_numpy_aggregate_to_the_same_integers():
    log, _ = transaction_log(1500, seed=4, string_ids=False)
    spec = SegmentationSpec.from_dict(
        {**SPEC.to_dict(), "id_column": "customer_id", "timestamp_column": "timestamp"}
    )
    events = clean_transactions(log.astype({"category": str}), spec).frame
    cutoff = day_number(dt.date(2025, 9, 1))
    past = events["t"].to_numpy() < cutoff * 86_400
    lean = lean_events(
        *(events[c].cat.codes.to_numpy()[past] for c in ["customer_id"]),
        *(events[c].to_numpy()[past] for c in ["t", "cents", "refund"]),
        events["category"].cat.codes.to_numpy()[past],
    )
    duck, duck_cat = aggregate(lean, cutoff, engine="duckdb", categories=True)
    pand, pand_cat = aggregate(lean, cutoff, engine="pandas", categories=True)
    assert len(duck) > 1000 and (duck["n_refunds"] > 0).any() and (duck["gap_sq"] > 0).any()
    dense, dense_cat = aggregate(lean, cutoff, engine="numpy", categories=True)
    pd.testing.assert_frame_equal(duck, pand, check_exact=True)
    pd.testing.assert_frame_equal(duck, dense, check_exact=True)
    pd.testing.assert_frame_equal(duck_cat, pand_cat, check_exact=True)
    pd.testing.assert_frame_equal(duck_cat, dense_cat, check_exact=True)


def test_the_same_events_give_identical_features_on_every_run():
    log, _ = transaction_log(3000, seed=5, string_ids=False)
    spec = SegmentationSpec.from_dict(
        {**SPEC.to_dict(), "id_column": "customer_id", "timestamp_column": "timestamp"}
    )
    events = clean_transactions(log.astype({"category": str}), spec).frame
    first = customer_features(events, as_of=dt.date(2025, 6, 1)).frame
    second = customer_features(events.sample(frac=1.0, random_state=2), as_of=dt.date(2025, 6, 1)).frame
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_chosen_groups_decide_what_is_clustered_but_the_contract_columns_stay():
    table = customer_features(events_of(HAND), as_of=AS_OF, groups=["windows"])
    assert table.groups == ("windows",)
    assert set(table.feature_columns) == {
        "spend_30d", "count_30d", "spend_90d", "count_90d", "spend_180d", "count_180d", "momentum_90d",
        "interval_missing",
    }  # fmt: skip
    assert {"recency_days", "frequency", "monetary_total", "tenure_days"} <= set(table.frame.columns)


def test_groups_needing_categories_are_skipped_by_default_and_refused_when_asked_for():
    events = events_of(HAND).drop(columns="category")
    table = customer_features(events, as_of=AS_OF)
    assert set(table.skipped) == {"diversity", "affinity"}
    assert "category_count" not in table.frame.columns
    with pytest.raises(SegmentationError, match="'diversity' feature group needs product categories"):
        customer_features(events, as_of=AS_OF, groups=["rfm", "diversity"])


def test_no_event_before_as_of_is_a_clear_error():
    with pytest.raises(SegmentationError, match="no event happens before 'as_of' \\(2020-01-01\\)"):
        customer_features(events_of(HAND), as_of=dt.date(2020, 1, 1))


def test_a_customer_with_only_refunds_keeps_missing_features_and_an_indicator():
    rows = [*HAND[:7], ("E", "2024-02-01", "-20", "toys")]
    frame = customer_features(events_of(rows), as_of=AS_OF).frame.set_index("customer_id")
    assert np.isnan(frame.loc["E", "recency_days"]) and frame.loc["E", "frequency"] == 0
    assert frame.loc["E", "refund_rate"] == 1.0 and frame.loc["E", "tenure_days"] == 60
    assert frame["no_purchases"].tolist() == [0, 0, 0, 1]
    assert frame["no_spend"].tolist() == [0, 0, 0, 1]
