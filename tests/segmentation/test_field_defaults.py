"""Defaults that follow the field, end to end: the rule's choice recorded, reproduced and worth it."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from segmentation import RunMetrics, SegmentationSpec, segment
from segmentation.defaults import PCA_FEATURES
from segmentation.sql.scorer import compile_scorer
from segmentation.synthetic.transactions import transaction_log

NUMERIC = ["spend", "orders", "tenure_months", "refund_rate"]
SKEWED = ["spend", "orders"]


def planted(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Four archetypes of unequal size with log-normal spend, over-dispersed order counts,
    tenure in months and a refund rate: what a customer table of money and counts looks like."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1])
    # occasional small spenders, big-basket occasional buyers, frequent small baskets, loyal big spenders
    log_spend = np.array([2.5, 5.0, 3.0, 5.5])[truth] + rng.normal(0, 0.6, n)
    order_rate = np.exp(np.array([0.3, 0.5, 2.5, 2.8])[truth] + rng.normal(0, 0.5, n))
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "spend": np.exp(log_spend).round(2),
            "orders": rng.poisson(order_rate).astype(float),
            "tenure_months": (np.array([12.0, 40.0, 30.0, 80.0])[truth] + rng.normal(0, 8, n)).clip(0),
            "refund_rate": rng.beta(1, 30, n),
        }
    )
    return frame, truth


def _spec(**keys: object) -> SegmentationSpec:
    base = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 6,
        "algorithms": ["kmeans"],
        "stability_resamples": 3,
    }
    return SegmentationSpec.from_dict({**base, **keys})


def _ari(result, truth: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    return float(adjusted_rand_score(truth, result.labels["segment"]))


def _notebook_ari(frame: pd.DataFrame, truth: np.ndarray, k: int) -> float:
    """What an analyst's notebook does: log1p on money and counts, z-score, K-Means."""
    features = frame[NUMERIC].copy()
    features[SKEWED] = np.log1p(features[SKEWED])
    z = StandardScaler().fit_transform(features)
    return float(adjusted_rand_score(truth, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(z)))


@pytest.fixture(scope="module", params=[11, 12])
def runs(request):  # type: ignore[no-untyped-def]
    frame, truth = planted(3000, request.param)
    return frame, truth, segment(frame, _spec()), segment(frame, _spec(default_transform="zscore"))


def test_the_resolved_spec_names_the_logged_columns_and_says_what_ran(runs):
    _, _, default, _ = runs
    assert dict(default.spec.transforms) == dict.fromkeys(SKEWED, "log1p")
    assert default.spec.default_transform == "zscore"
    assert default.spec.reduction == "none"
    stored = default.spec.to_dict()
    assert stored["transforms"] == dict.fromkeys(SKEWED, "log1p")
    assert SegmentationSpec.from_dict(stored) == default.spec


def test_metrics_say_why_each_column_was_or_was_not_logged(runs):
    _, _, default, _ = runs
    defaults = RunMetrics.from_dict(default.metrics).defaults
    assert defaults is not None
    assert defaults.logged == SKEWED
    assert defaults.transforms["spend"].why.startswith("heavy right tail")
    assert defaults.transforms["spend"].skewness > 1 > abs(defaults.transforms["spend"].skewness_after_log)
    assert defaults.transforms["refund_rate"].why == "a share between 0 and 1"
    assert defaults.reduction is not None and defaults.reduction.reduction == "none"
    words = " ".join(defaults.sentences())
    assert "spend and orders were log-transformed before z-scoring" in words


def test_the_defaults_recover_the_archetypes_better_than_zscore_and_as_well_as_a_notebook(runs):
    frame, truth, default, zscored = runs
    # the notebook at the number of segments the platform chose: the same features, the same K-Means
    notebook = _notebook_ari(frame, truth, k=default.metrics["selected"]["k"])
    assert _ari(default, truth) > _ari(zscored, truth) + 0.1
    assert _ari(default, truth) >= notebook - 0.03
    assert RunMetrics.from_dict(zscored.metrics).defaults.logged == []  # the user chose zscore


def test_running_the_stored_spec_again_gives_the_same_model(runs):
    frame, _, default, _ = runs
    again = segment(frame, SegmentationSpec.from_dict(default.spec.to_dict()))
    assert again.model.sha256 == default.model.sha256
    assert RunMetrics.from_dict(again.metrics).defaults is None  # nothing was left to the rule


def test_the_users_choices_win():
    frame, _ = planted(600, 3)
    result = segment(frame, _spec(transforms={"spend": "robust"}, reduction="pca"))
    assert dict(result.spec.transforms) == {"spend": "robust", "orders": "log1p"}
    assert result.spec.reduction == "pca"
    defaults = RunMetrics.from_dict(result.metrics).defaults
    assert set(defaults.transforms) == {"orders", "tenure_months", "refund_rate"}
    assert defaults.reduction is None


def test_many_features_are_reduced_by_pca_unless_the_user_says_none():
    frame, _ = planted(800, 4)
    rng = np.random.default_rng(4)
    noise = [f"noise_{i}" for i in range(PCA_FEATURES + 1 - len(NUMERIC))]
    for column in noise:
        frame[column] = rng.normal(size=len(frame))
    columns = NUMERIC + noise
    result = segment(frame, _spec(numeric_columns=columns))
    metrics = RunMetrics.from_dict(result.metrics)
    assert result.spec.reduction == "pca" and metrics.space.reduction == "pca"
    assert metrics.space.dimensions < len(columns)
    assert f"{len(columns)} features, more than {PCA_FEATURES}" in metrics.defaults.reduction.why
    kept = segment(frame, _spec(numeric_columns=columns, reduction="none"))
    assert kept.spec.reduction == "none" and RunMetrics.from_dict(kept.metrics).space.dimensions == len(
        columns
    )


def test_the_sql_scorer_labels_like_the_model_with_the_logged_columns(runs):
    frame, _, default, _ = runs
    connection = sqlite3.connect(":memory:")
    frame.to_sql("customers", connection, index=False)
    rows = connection.execute(compile_scorer(default.model, "sqlite")).fetchall()
    scored = pd.DataFrame(rows, columns=["customer_id", "segment", "segment_name"])
    by_id = default.labels.set_index(default.labels["customer_id"].astype(int))["segment"]
    assert scored["segment"].tolist() == by_id.loc[scored["customer_id"]].tolist()


def test_a_transaction_log_has_its_money_and_counts_logged_by_default():
    log, _ = transaction_log(1500, seed=5)
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "input_kind": "transactions",
            "timestamp_column": "timestamp",
            "amount_column": "amount",
            "features": ["rfm", "seasonality"],
            "k_min": 2,
            "k_max": 7,
            "stability_resamples": 3,
        }
    )
    result = segment(log, spec)
    logged = {c for c, t in result.spec.transforms if t == "log1p"}
    assert {"recency_days", "monetary_total"} <= logged
    assert not logged & {"refund_rate", "q4_share", "top_quarter_share"}
    assert result.spec.input_kind == "transactions"  # the user's spec, with the choices filled in
    # Whether the logs recover a small log's archetypes better than z-scores depends on the k the
    # selection picks (seeds 5, 6, 7: 0.70/0.74/0.75 logged against 0.80/0.71/0.69 z-scored), so this
    # test pins the decisions; the gain is measured on customer tables above and on the 200,000-customer
    # log in bench/RESULTS.md.
    assert result.metrics["defaults"]["transforms"]["monetary_total"]["transform"] == "log1p"
