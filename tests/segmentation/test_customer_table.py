"""segment() on a transaction log: features first, then the clustering, with the report of why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation import SegmentationError, SegmentationSpec, segment
from segmentation.synthetic.customers import customer_table
from segmentation.synthetic.transactions import transaction_log

LOG_SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "category_column": "category",
    "k_min": 2,
    "k_max": 5,
    "as_of": "2025-12-01",
}


@pytest.fixture(scope="module")
def messy_log() -> pd.DataFrame:
    log, _ = transaction_log(300, seed=8)
    log = log.astype({"timestamp": str, "amount": str, "category": str})
    log["segment_of_birth"] = np.where(log["customer_id"].str[-1].isin(list("02468")), "even", "odd")
    log["churned"] = (log["customer_id"].str[-1] == "7").astype(int)
    extra = log.iloc[:5].copy()
    extra.loc[:, "customer_id"] = None
    return pd.concat([log, log.iloc[:3], extra], ignore_index=True)


@pytest.fixture(scope="module")
def result(messy_log):  # type: ignore[no-untyped-def]
    spec = SegmentationSpec.from_dict(
        {**LOG_SPEC, "protected_columns": ["segment_of_birth"], "outcome_columns": ["churned"]}
    )
    return segment(messy_log, spec)


def test_a_transaction_log_is_labelled_one_row_per_customer(result, messy_log):
    customers = messy_log["customer_id"].dropna().unique()
    assert len(result.labels) == result.labels["customer_id"].nunique() == len(customers)
    assert (result.labels["customer_id"].to_numpy() == result.features["customer_id"].to_numpy()).all()


def test_the_feature_table_holds_the_contract_columns_before_scaling(result):
    features = result.features
    assert list(features.columns[:5]) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary_total",
        "tenure_days",
    ]
    assert (features["frequency"] >= 1).sum() > 0 and features["monetary_total"].max() > 10  # not z-scores
    assert set(result.model.features) <= set(features.columns)


def test_what_was_dropped_and_why_is_in_the_metrics(result):
    quality = result.metrics["data_quality"]
    assert quality["rows_without_id"] == 5
    assert quality["duplicate_rows"] == 3 and quality["duplicates_removed"] == 0
    assert quality["refunds"] > 0 and quality["events_on_or_after_as_of"] > 0
    assert result.metrics["as_of"] == "2025-12-01"
    assert result.metrics["input_kind"] == "transactions"


def test_protected_and_outcome_columns_are_carried_but_never_features(result):
    assert list(result.attributes.columns) == ["customer_id", "segment_of_birth", "churned"]
    assert len(result.attributes) == len(result.labels)
    assert not {"segment_of_birth", "churned"} & set(result.model.features)
    assert result.spec.input_kind == "transactions"  # the spec as asked, not the clustering's


def test_a_customer_table_exposes_its_numeric_columns_as_features():
    frame, _ = customer_table(200, seed=2)
    spec = SegmentationSpec.from_dict(
        {"id_column": "customer_id", "numeric_columns": ["recency_days", "avg_basket"], "k_max": 4}
    )
    result = segment(frame, spec)
    assert list(result.features.columns) == ["customer_id", "recency_days", "avg_basket"]
    assert result.metrics["data_quality"]["input_kind"] == "customers"
    assert result.attributes.columns.tolist() == ["customer_id"]


def test_an_as_of_before_every_event_is_a_clear_error(messy_log):
    spec = SegmentationSpec.from_dict({**LOG_SPEC, "as_of": "2001-01-01"})
    with pytest.raises(SegmentationError, match="no event happens before 'as_of'"):
        segment(messy_log, spec)


def test_the_same_log_and_spec_give_the_same_model_and_labels(messy_log):
    spec = SegmentationSpec.from_dict(LOG_SPEC)
    first, second = segment(messy_log, spec), segment(messy_log.sample(frac=1.0, random_state=4), spec)
    assert first.model.sha256 == second.model.sha256
    pd.testing.assert_frame_equal(first.labels, second.labels)
    pd.testing.assert_frame_equal(first.features, second.features, check_exact=True)


def test_indicators_of_groups_not_asked_for_stay_in_features_csv_but_out_of_the_distances():
    log, _ = transaction_log(300, seed=3)
    spec = SegmentationSpec.from_dict(
        {**LOG_SPEC, "features": ["rfm"], "algorithms": ["kmeans"], "stability_resamples": 0, "k_max": 3}
    )
    result = segment(log, spec)
    assert "'temporal'" in result.metrics["features_left_out"]["interval_missing"]
    assert "interval_missing" in result.features.columns
    assert "interval_missing" not in result.metrics["features"]
