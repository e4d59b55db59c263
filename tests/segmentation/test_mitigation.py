"""A mitigation run drops the features the bias audit flagged as proxies and is compared side by side.

The data plants segments in spend and visits that are independent of gender, and a tenure that
differs by gender: clustering on tenure makes segments that sort customers by gender. Dropping
the flagged proxy must leave segments that no longer do, and the comparison must report the
figures of the two audits as they are (fairlearn-based tables, scikit-learn's adjusted Rand).
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation import SegmentationError, SegmentationSpec, SpecError, segment
from segmentation.protection.fairness import PROXY_AUC_CONCERN, bias_audit
from segmentation.protection.mitigation import flagged_proxies, side_by_side
from tests.segmentation.later_log import planted_log
from tests.segmentation.mitigation_data import SPEC, customers


def audit(result):  # type: ignore[no-untyped-def]
    """The bias audit as the platform records it: over the features the clustering saw."""
    ids = {"customer_id": str}
    joined = (
        result.labels.astype(ids)
        .merge(result.attributes.astype(ids), on="customer_id")
        .merge(result.features.astype(ids), on="customer_id")
    )
    return bias_audit(joined["segment"], joined[["gender"]], joined[list(result.clustered_features)])


@cache
def before_and_after():  # type: ignore[no-untyped-def]
    frame = customers()
    before = segment(frame, SegmentationSpec.from_dict(SPEC))
    table, findings = audit(before)
    dropped = flagged_proxies(findings, before.clustered_features)
    after = segment(frame, SegmentationSpec.from_dict({**SPEC, "excluded_features": dropped}))
    return before, table, findings, dropped, after, *audit(after)


def test_the_proxy_the_audit_flags_is_the_one_that_encodes_gender():
    before, _, findings, dropped, *_ = before_and_after()
    assert findings["proxies"]["gender"]["auc"] >= PROXY_AUC_CONCERN
    assert dropped == ["tenure"]
    assert before.clustered_features == ("spend", "visits", "tenure")


def test_the_mitigation_run_clusters_without_the_proxy_and_no_longer_sorts_by_gender():
    _, table, _, _, after, table_after, findings_after = before_and_after()
    assert "tenure" not in after.clustered_features
    assert after.metrics["features"] == ["spend", "visits"]
    assert "tenure" not in repr(after.model.to_dict())
    # tenure stays in features.csv: it is left out of the clustering, not out of the data
    assert "tenure" in after.features.columns
    assert findings_after["proxies"]["gender"]["auc"] < 0.65
    largest = table["demographic_parity_difference"].max()
    largest_after = table_after["demographic_parity_difference"].max()
    assert largest > 0.25 and largest_after < largest / 2
    assert table_after["four_fifths_flag"].sum() < table["four_fifths_flag"].sum()


def test_the_side_by_side_figures_are_the_audits_and_scikit_learns():
    before, table, findings, dropped, after, table_after, findings_after = before_and_after()
    comparison = side_by_side(
        dropped=dropped,
        before_rows=table,
        before_findings=findings,
        after_rows=table_after,
        after_findings=findings_after,
        before_labels=before.labels,
        after_labels=after.labels,
        before_quality={"k": before.metrics["selected"]["k"], "silhouette": 0.5},
        after_quality={"k": after.metrics["selected"]["k"], "silhouette": 0.6},
    )
    (gender,) = comparison["attributes"]
    assert gender["auc_before"] == findings["proxies"]["gender"]["auc"]
    assert gender["auc_after"] == findings_after["proxies"]["gender"]["auc"]
    assert gender["largest_gap_before"]["difference"] == pytest.approx(
        table["demographic_parity_difference"].max()
    )
    assert gender["largest_gap_after"]["difference"] == pytest.approx(
        table_after["demographic_parity_difference"].max()
    )
    assert gender["four_fifths_flags_after"] == int(table_after["four_fifths_flag"].sum())
    joined = before.labels.merge(after.labels, on="customer_id")
    assert comparison["agreement"]["adjusted_rand"] == pytest.approx(
        adjusted_rand_score(joined["segment_x"], joined["segment_y"])
    )
    assert comparison["agreement"]["customers"] == len(before.labels)
    text = " ".join(comparison["summary"])
    assert "without tenure" in text and "silhouette 0.50 → 0.60" in text


def test_a_proxy_that_the_rest_still_carries_is_said_to_remain():
    comparison = side_by_side(
        dropped=["tenure"],
        before_rows=pd.DataFrame(columns=["attribute"]),
        before_findings={"proxies": {"gender": {"auc": 0.95}}},
        after_rows=pd.DataFrame(columns=["attribute"]),
        after_findings={"proxies": {"gender": {"auc": 0.81}}},
        before_labels=None,
        after_labels=pd.DataFrame({"customer_id": [], "segment": []}),
        before_quality={},
        after_quality={},
    )
    assert comparison["attributes"] == []  # no bias rows: nothing per attribute to set side by side
    assert comparison["agreement"] is None


def test_flagged_proxies_keep_only_concerning_attributes_and_clustered_features():
    findings = {
        "proxies": {
            "gender": {"auc": 0.9, "proxies": [{"feature": "tenure"}, {"feature": "region"}]},
            "age_band": {"auc": 0.55, "proxies": [{"feature": "spend"}]},
            "race": {"auc": None, "proxies": [{"feature": "visits"}]},
        }
    }
    assert flagged_proxies(findings) == ["region", "tenure"]
    assert flagged_proxies(findings, ("tenure", "spend")) == ["tenure"]
    assert flagged_proxies({}) == []


def test_a_customer_tables_categories_reach_the_proxy_check():
    frame = customers(300, seed=2)
    spec = SegmentationSpec.from_dict(
        {
            **SPEC,
            "numeric_columns": ["spend", "visits"],
            "categorical_columns": ["region"],
            "algorithms": None,
        }
    )
    result = segment(frame, spec)
    assert set(result.clustered_features) == {"spend", "visits", "region"}
    assert list(result.features["region"]) == list(frame["region"])


@pytest.mark.parametrize(
    ("excluded", "message"),
    [
        (["income"], "'excluded_features' names income, which the spec does not cluster on"),
        (["spend", "visits", "tenure"], "leaves no feature to cluster on"),
        ("tenure", "must be a list of column names"),
    ],
)
def test_excluded_features_a_customer_table_cannot_honour_are_refused_by_name(excluded, message):
    with pytest.raises(SpecError, match=message):
        SegmentationSpec.from_dict({**SPEC, "excluded_features": excluded})


def test_a_log_leaves_out_an_engineered_feature_by_name_and_refuses_an_unknown_one():
    log = planted_log()
    spec = {
        "id_column": "customer_id",
        "input_kind": "transactions",
        "timestamp_column": "timestamp",
        "amount_column": "amount",
        "as_of": "2025-07-01",
        "k_min": 2,
        "k_max": 4,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    kept = segment(log, SegmentationSpec.from_dict({**spec, "excluded_features": ["monetary_total"]}))
    assert "monetary_total" not in kept.metrics["features"]
    assert kept.metrics["features_left_out"]["monetary_total"] == "left out by the spec's 'excluded_features'"
    with pytest.raises(SegmentationError, match="not a feature engineered from this log; the features are"):
        segment(log, SegmentationSpec.from_dict({**spec, "excluded_features": ["shoe_size"]}))
