"""The selection rule and the sweep that feeds it: the planted k wins, the reason explains the win,
and degenerate data is refused with a message that says what to do."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segmentation.clustering.selection import STABILITY_FLOOR, select
from segmentation.clustering.sweep import sweep
from segmentation.errors import SegmentationError


def candidate(algorithm: str, k: int, sil: float, db: float, ch: float, stability: float, **extra):  # type: ignore[no-untyped-def]
    return {
        "algorithm": algorithm,
        "k": k,
        "silhouette": sil,
        "davies_bouldin": db,
        "calinski_harabasz": ch,
        "stability": stability,
        **extra,
    }


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, np.ndarray]:
    X, truth = make_blobs(400, centers=4, n_features=4, cluster_std=1.0, random_state=5)
    return (X - X.mean(axis=0)) / X.std(axis=0), truth


def test_the_sweep_picks_the_planted_number_of_segments(planted):
    X, truth = planted
    result = sweep(X, algorithms=["kmeans", "gmm"], k_min=2, k_max=7, stability_resamples=5)
    assert result.selected["k"] == 4
    assert adjusted_rand_score(truth, result.labels) == pytest.approx(1.0)
    assert {(c["algorithm"], c["k"]) for c in result.candidates} == {
        (a, k) for a in ("kmeans", "gmm") for k in range(2, 8)
    }
    for c in result.candidates:
        assert {"silhouette", "davies_bouldin", "calinski_harabasz", "stability"} <= c.keys()
    assert all("bic" in c for c in result.candidates if c["algorithm"] == "gmm")
    assert result.selected["consensus_index"] > 0.95


def test_the_default_numeric_sweep_runs_k_means_mixtures_and_hdbscan_once(planted):
    X, _ = planted
    result = sweep(X, k_min=3, k_max=5, stability_resamples=3)
    assert [c["algorithm"] for c in result.candidates] == ["kmeans"] * 3 + ["gmm"] * 3 + ["hdbscan"]
    density = result.candidates[-1]
    assert {"noise_share", "dbcv"} <= density.keys()


def test_mixed_data_defaults_to_k_prototypes_and_gower_agglomerative():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 200)
    numeric = truth[:, None] * 3.0 + rng.normal(0, 0.5, (200, 2))
    categorical = np.where(truth == 0, "web", "store")[:, None].astype(object)
    result = sweep(numeric, categorical=categorical, k_min=2, k_max=3, stability_resamples=3)
    assert {c["algorithm"] for c in result.candidates} == {"kprototypes", "gower_agglomerative"}
    assert adjusted_rand_score(truth, result.labels) >= 0.9


def test_the_same_seed_gives_the_same_sweep(planted):
    X, _ = planted
    first = sweep(
        X, algorithms=["kmeans", "hdbscan"], k_min=2, k_max=4, stability_resamples=3, random_state=9
    )
    second = sweep(
        X, algorithms=["kmeans", "hdbscan"], k_min=2, k_max=4, stability_resamples=3, random_state=9
    )
    assert first.candidates == second.candidates
    assert (first.labels == second.labels).all()


def test_the_reason_names_the_winner_and_why_the_runner_up_lost():
    candidates = [
        candidate("kmeans", 3, 0.70, 0.5, 900.0, 0.98),
        candidate("gmm", 3, 0.71, 0.5, 900.0, 0.40),
        candidate("kmeans", 4, 0.50, 0.9, 700.0, 0.90),
    ]
    winner, reason = select(candidates)
    assert winner == 0
    assert reason.startswith("kmeans with k = 3 won the partition family by the highest silhouette (0.700)")
    assert "over the mixture family's finalist, gmm with k = 3" in reason
    assert "stability 0.40 below 0.6" in reason
    assert [c["family"] for c in candidates] == ["partition", "mixture", "partition"]


def test_an_unstable_or_tiny_segment_candidate_loses_despite_better_internal_figures():
    unstable = candidate("kmeans", 5, 0.80, 0.3, 1500.0, STABILITY_FLOOR - 0.1)
    tiny = candidate("gmm", 5, 0.80, 0.3, 1500.0, 0.99, smallest_share=0.002)
    solid = candidate("kmeans", 4, 0.60, 0.6, 1000.0, 0.97, smallest_share=0.2)
    assert select([unstable, solid])[0] == 1
    assert select([tiny, solid])[0] == 1


def test_the_silhouette_rule_keeps_the_foundations_choice_with_ties_to_the_smaller_k():
    candidates = [candidate("kmeans", k, s, 1.0, 1.0, 0.1) for k, s in [(2, 0.5), (3, 0.7), (4, 0.7)]]
    winner, reason = select(candidates, "silhouette")
    assert candidates[winner]["k"] == 3
    assert reason == "highest silhouette (0.700) among k = 2..4; ties go to the smaller k"


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones((50, 3)), "every customer has the same values"),
        (np.arange(6.0).reshape(3, 2), "there are 3 customer(s) but at least 3 segments"),
        (np.repeat([[0.0, 1.0], [1.0, 0.0]], 10, axis=0), "only 2 distinct combination(s)"),
    ],
)
def test_degenerate_data_is_refused_with_a_clear_message(X, message):
    with pytest.raises(SegmentationError) as error:
        sweep(X, algorithms=["kmeans"], k_min=3, k_max=5, stability_resamples=0)
    assert message in str(error.value)


def test_unknown_or_unsuitable_algorithms_are_refused_by_name(planted):
    X, _ = planted
    with pytest.raises(SegmentationError, match="unknown algorithm"):
        sweep(X, algorithms=["kmedoids"])
    with pytest.raises(SegmentationError, match="need categorical columns"):
        sweep(X, algorithms=["kprototypes"])
    with pytest.raises(SegmentationError, match="unknown selection rule"):
        sweep(X, algorithms=["kmeans"], k_max=3, stability_resamples=0, selection="aic")


def test_above_the_sweep_size_candidates_run_on_a_sample_and_the_winner_labels_everyone(monkeypatch, planted):
    from segmentation.clustering import sweep as sweep_module

    X, truth = planted
    monkeypatch.setattr(sweep_module, "SWEEP_ROWS", 150)
    result = sweep(X, algorithms=["kmeans", "hdbscan"], k_min=3, k_max=5, stability_resamples=3)
    assert len(result.labels) == len(X)
    assert "random sample of 150 of 400 customers" in result.selected["sweep_sample"]
    assert adjusted_rand_score(truth, result.labels) >= 0.9
