"""RunMetrics: the typed reading of the metrics every engine version has stored."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest

from segmentation import RunMetrics, SegmentationSpec, segment
from segmentation.metrics.reading import Stored
from segmentation.result import Candidate, Selected
from segmentation.synthetic.customers import customer_table
from segmentation.synthetic.transactions import transaction_log

NUMERIC = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]


def _run(algorithms: list[str], **spec: Any):  # type: ignore[no-untyped-def]
    frame, _ = customer_table(300, seed=2)
    frame["churned"] = (np.arange(len(frame)) % 5 == 0).astype(int)
    keys = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 4}
    keys |= {"algorithms": algorithms, "stability_resamples": 3, "outcome_columns": ["churned"], **spec}
    return segment(frame, SegmentationSpec.from_dict(keys))


@pytest.fixture(scope="module")
def runs() -> dict[str, Any]:
    log, _ = transaction_log(200, seed=8)
    log_spec = {
        "id_column": "customer_id",
        "input_kind": "transactions",
        "timestamp_column": "timestamp",
        "amount_column": "amount",
        "category_column": "category",
        "k_min": 2,
        "k_max": 4,
        "stability_resamples": 3,
    }
    return {
        "agglomerative": _run(["agglomerative"], reduction="pca"),
        "gmm": _run(["gmm"]),
        "hdbscan": _run(["hdbscan", "kmeans"]),
        "transactions": segment(log, SegmentationSpec.from_dict(log_spec)),
    }


def _same(typed: Any, stored: Any, where: str) -> None:
    """The typed value reads the stored one: only the spelling of JSON differs (lists become
    tuples, text keys of segment numbers become integers)."""
    if isinstance(typed, Stored) or dataclasses.is_dataclass(typed):
        assert isinstance(stored, dict), where
        names = {f.name for f in dataclasses.fields(typed)}
        for key, value in stored.items():
            if key in names:
                _same(getattr(typed, key), value, f"{where}.{key}")
    elif isinstance(typed, tuple):
        assert isinstance(stored, list) and len(typed) == len(stored), where
        for i, (a, b) in enumerate(zip(typed, stored, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(typed, dict):
        assert {str(k): v for k, v in typed.items()}.keys() == {k for k, v in stored.items() if v is not None}
        for key, value in typed.items():
            _same(value, stored[str(key)], f"{where}.{key}")
    else:
        assert typed == stored, where


def _typed_keys(typed: Any, stored: Any, where: str) -> set[str]:
    """Stored keys that no typed field reads."""
    if not isinstance(stored, dict) or not dataclasses.is_dataclass(typed):
        return set()
    names = {f.name for f in dataclasses.fields(typed)}
    unread = {f"{where}.{key}" for key in stored if key not in names}
    for key in names & set(stored):
        value = getattr(typed, key)
        if isinstance(value, tuple) and isinstance(stored[key], list):
            for item, raw in zip(value, stored[key], strict=False):
                unread |= _typed_keys(item, raw, f"{where}.{key}[]")
        else:
            unread |= _typed_keys(value, stored[key], f"{where}.{key}")
    return unread


@pytest.mark.parametrize("name", ["agglomerative", "gmm", "hdbscan", "transactions"])
def test_every_key_a_run_stores_has_a_typed_reading_and_to_dict_gives_the_stored_dict(runs, name):
    result = runs[name]
    metrics = result.metrics_view
    assert metrics.to_dict() == result.metrics
    # what the database gives back (JSON) reads the same as the run's own dict
    assert RunMetrics.from_dict(json.loads(json.dumps(result.metrics))) == metrics
    _same(metrics, result.metrics, "metrics")
    _same(metrics.transactions, result.metrics, "metrics")
    transaction_keys = {f"metrics.{f.name}" for f in dataclasses.fields(metrics.transactions)}
    assert _typed_keys(metrics, result.metrics, "metrics") - transaction_keys == set()


def test_the_parts_of_each_kind_of_winner_are_typed(runs):
    agglomerative = runs["agglomerative"].metrics_view
    assert agglomerative.space.reduction == "pca" and agglomerative.space.dimensions >= 1
    assert agglomerative.maps is not None and agglomerative.maps.tsne is not None
    assert len(agglomerative.maps.pca.x) == agglomerative.maps.sample_size == 300
    gmm = runs["gmm"].metrics_view
    assert gmm.selected.memberships is not None and 0 < gmm.selected.memberships.mean <= 1
    assert gmm.selected_candidate is not None and gmm.selected_candidate.bic is not None
    assert gmm.outcomes[0].outcome == "churned" and gmm.outcomes[0].kind == "rate"
    assert {s.segment for s in gmm.outcomes[0].segments} == set(range(gmm.selected.k))
    assert gmm.rules is not None and gmm.rules.fidelity is not None
    assert all(rule.segment == 0 for rule in gmm.rules.for_segment(0))
    log = runs["transactions"].metrics_view
    assert log.input_kind == "transactions" and log.data_quality.is_transactions
    assert log.transactions.as_of_date is not None and log.transactions.affinity is not None
    assert log.data_quality.events > 0 and "no customer id" in log.data_quality.dropped
    dendrogram = agglomerative.selected.dendrogram
    assert (
        dendrogram is not None
        and dendrogram.to_dict() == runs["agglomerative"].metrics["selected"]["dendrogram"]
    )
    assert len(dendrogram.merges) == 30 and dendrogram.rows == 300


# What the foundation's engine stored: K-Means only, chosen by silhouette, no data-quality
# report, no space, maps, rules or outcomes.
FOUNDATION = {
    "rows": 12,
    "rows_without_id": 1,
    "missing": {"spend": 2, "visits": 0},
    "missing_total": 2,
    "unparsable": {"spend": 1, "visits": 0},
    "imputation": "median",
    "customers": 11,
    "features": ["spend", "visits"],
    "population_means": {"spend": 40.5, "visits": 3.0},
    "k_range": [2, 3],
    "candidates": [
        {
            "algorithm": "kmeans",
            "k": 2,
            "silhouette": 0.61,
            "davies_bouldin": 0.5,
            "calinski_harabasz": 30.0,
            "inertia": 8.0,
        },
        {
            "algorithm": "kmeans",
            "k": 3,
            "silhouette": 0.55,
            "davies_bouldin": 0.6,
            "calinski_harabasz": 28.0,
            "inertia": 5.0,
        },
    ],
    "selected": {
        "algorithm": "kmeans",
        "k": 2,
        "silhouette": 0.61,
        "reason": "highest silhouette (0.610) among k = 2..3",
    },
    "silhouette_sample_size": 11,
}


def test_the_foundations_metrics_read_with_typed_defaults():
    metrics = RunMetrics.from_dict(FOUNDATION)
    assert metrics.to_dict() == FOUNDATION
    assert (metrics.customers, metrics.rows, metrics.features, metrics.k_range) == (
        11,
        12,
        ("spend", "visits"),
        (2, 3),
    )
    assert metrics.selected.rule == "silhouette" and metrics.selected.assignment == ""
    assert metrics.selected_candidate is metrics.candidates[0] and metrics.candidates[1].inertia == 5.0
    assert metrics.silhouette == 0.61 and metrics.selected_stability is None
    quality = metrics.data_quality
    assert not quality.recorded and (quality.rows, quality.rows_without_id) == (12, 1)
    assert (quality.missing_feature_values, quality.unparsable_cells) == (2, 1)
    assert (metrics.space.reduction, metrics.space.distance, metrics.space.dimensions) == (
        "none",
        "euclidean",
        2,
    )
    assert (
        metrics.maps is None and metrics.rules is None and metrics.outcomes == () and metrics.stability == ()
    )
    assert metrics.transactions.as_of is None and metrics.transactions.affinity is None
    assert metrics.input_kind == "customers" and metrics.candidates[0].stability is None


def test_a_version_before_the_reduction_reads_without_space_maps_or_rules():
    stored = {
        **FOUNDATION,
        "input_kind": "customers",
        "data_quality": {
            "input_kind": "customers",
            "rows": 12,
            "rows_without_id": 1,
            "missing_feature_values": 2,
            "unparsable_cells": 1,
        },
        "candidates": [
            {**c, "stability": 0.9, "score": 0.5 + i / 10} for i, c in enumerate(FOUNDATION["candidates"])
        ],
        "selected": {**FOUNDATION["selected"], "rule": "combined", "stability": None},
    }
    metrics = RunMetrics.from_dict(stored)
    assert metrics.data_quality.recorded and metrics.selected.rule == "combined"
    assert metrics.selected_stability == 0.9  # the selected entry's is null: its candidate's
    assert metrics.runner_up() is metrics.candidates[1]
    assert metrics.maps is None and metrics.space.dimensions == 2


def test_the_runner_up_is_by_score_when_candidates_are_scored_else_by_silhouette():
    candidates = [
        {"algorithm": "kmeans", "k": 2, "silhouette": 0.5, "score": 0.9},
        {"algorithm": "kmeans", "k": 3, "silhouette": 0.7, "score": 0.2},
        {"algorithm": "gmm", "k": 3, "silhouette": 0.4, "score": 0.6},
        {"algorithm": "hdbscan", "k": 2, "silhouette": None, "score": None},
    ]
    scored = RunMetrics.from_dict({"candidates": candidates, "selected": {"algorithm": "kmeans", "k": 2}})
    assert (scored.runner_up().algorithm, scored.runner_up().k) == ("gmm", 3)
    unscored = [{k: v for k, v in c.items() if k != "score"} for c in candidates]
    by_silhouette = RunMetrics.from_dict(
        {"candidates": unscored, "selected": {"algorithm": "kmeans", "k": 2}}
    )
    assert (by_silhouette.runner_up().algorithm, by_silhouette.runner_up().k) == ("kmeans", 3)
    assert RunMetrics.from_dict({"candidates": candidates[:1], "selected": {"k": 2}}).runner_up() is None


def test_a_selected_entry_without_an_algorithm_matches_a_candidate_by_k():
    selected = Selected.from_dict({"k": 3})
    assert Candidate.from_dict({"algorithm": "gmm", "k": 3}).is_selected_by(selected)
    assert not Candidate.from_dict({"algorithm": "gmm", "k": 2}).is_selected_by(selected)
    assert not Candidate.from_dict({"algorithm": "gmm", "k": 3}).is_selected_by(
        Selected.from_dict({"algorithm": "kmeans", "k": 3})
    )
    assert Candidate.from_dict({"k": 3}).is_selected_by(Selected.from_dict({"algorithm": "kmeans", "k": 3}))
    assert not Candidate.from_dict({}).is_selected_by(Selected.from_dict({}))


@pytest.mark.parametrize(
    "stored",
    [
        {"stability": [{"k": 3, "ari": 0.8}, {"k": 2, "mean_ari": 0.9}, {"k": "x", "ari": 1.0}]},
        {"stability": {"3": 0.8, "2": 0.9, "mean": 0.5}},
    ],
)
def test_a_stability_curve_reads_in_either_shape_sorted_by_k(stored):
    assert [(p.k, p.score) for p in RunMetrics.from_dict(stored).stability] == [(2, 0.9), (3, 0.8)]


@pytest.mark.parametrize(
    "stored",
    [
        None,
        [],
        "metrics",
        {"customers": "many", "features": "spend", "population_means": [1, 2], "k_range": [2]},
        {"candidates": [None, "x", {"k": "three", "silhouette": "NaN"}], "selected": ["kmeans"]},
        {
            "data_quality": [],
            "space": "pca",
            "maps": {"pca": None, "segments": [0, "x"]},
            "rules": {"rules": [1]},
        },
        {
            "outcomes": [{"segments": [{"segment": None}, {"segment": 1, "n": "x"}]}],
            "selected": {"dendrogram": {"merges": [[1, 2]]}},
        },
        {"as_of": 20240101, "affinity": {"components": [["a", 1.0]]}, "missing": {"spend": "two"}},
        {
            "candidates": [{"k": 2, "icl": "low", "pac": [0.1], "family": 3}],
            "selected": {
                "stability_interval": [0.9],
                "segment_jaccard_interval": {"0": [1.0, 0.5], "x": [0.1, 0.2], "1": "wide"},
                "runner_up": "kmeans",
                "stability_rows": "all",
            },
        },
    ],
)
def test_odd_stored_values_read_as_defaults_and_never_raise(stored):
    metrics = RunMetrics.from_dict(stored)
    assert isinstance(metrics.candidates, tuple) and isinstance(metrics.selected, Selected)
    assert metrics.silhouette is None and metrics.runner_up() is None
    assert metrics.transactions.as_of_date is None


def test_the_family_rule_figures_read_typed_and_the_runner_up_is_the_one_named():
    stored = {
        "candidates": [
            {"algorithm": "kmeans", "k": 8, "silhouette": 0.5, "pac": 0.04, "family": "partition"},
            {"algorithm": "gmm", "k": 3, "silhouette": 0.2, "icl": 812.5, "family": "mixture"},
            {"algorithm": "hdbscan", "k": 2, "silhouette": 0.39, "dbcv": 0.42, "family": "density"},
        ],
        "selected": {
            "algorithm": "hdbscan",
            "k": 2,
            "rule": "combined",
            "family": "density",
            "runner_up": {"algorithm": "gmm", "k": 3, "family": "mixture"},
            "stability": 0.99,
            "stability_interval": [0.97, 1.0],
            "stability_rows": 600,
            "stability_resamples": 20,
            "segment_jaccard": {"0": 0.99, "1": 0.98},
            "segment_jaccard_interval": {"0": [0.97, 1.0], "1": [0.95, 1.0]},
        },
    }
    metrics = RunMetrics.from_dict(stored)
    selected = metrics.selected
    assert (selected.family, selected.stability_interval, selected.stability_rows) == (
        "density",
        (0.97, 1.0),
        600,
    )
    assert selected.segment_jaccard_interval == {0: (0.97, 1.0), 1: (0.95, 1.0)}
    # named by the rule, not the best other silhouette (kmeans 0.5)
    assert (metrics.runner_up().algorithm, metrics.runner_up().k) == ("gmm", 3)
    assert metrics.candidates[1].icl == 812.5 and metrics.candidates[0].pac == 0.04


def test_the_view_is_read_only_and_never_writes_through_to_the_stored_dict():
    stored = json.loads(json.dumps(FOUNDATION))
    metrics = RunMetrics.from_dict(stored)
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.customers = 3  # type: ignore[misc]
    metrics.population_means["spend"] = 0.0
    metrics.to_dict()["selected"]["k"] = 9
    metrics.candidates[0].to_dict()["k"] = 9
    stored["selected"]["k"] = 7
    assert metrics.selected.k == 2 and metrics.to_dict()["selected"]["k"] == 2
    assert metrics.to_dict()["population_means"]["spend"] == 40.5
    assert stored["population_means"]["spend"] == 40.5


def test_a_result_carries_its_metrics_typed_and_reads_them_once(runs):
    result = runs["gmm"]
    assert result.metrics_view is result.metrics_view
    assert result.metrics_view == RunMetrics.from_dict(result.metrics)
