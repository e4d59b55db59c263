"""Selection each family can defend: the family rule recovers the planted groups, whatever their
shape, and its figures (ICL, PAC, full-size stability and its intervals) equal direct
computations with scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from segmentation import SegmentationSpec, segment
from segmentation.clustering.criteria import gaussian_bic
from segmentation.clustering.figures import full_size_stability
from segmentation.clustering.selection import select
from segmentation.clustering.stability import consensus
from segmentation.clustering.sweep import sweep

RESAMPLES = 8


def standardised(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def moons_with_noise(seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, truth = make_moons(500, noise=0.07, random_state=seed)
    return standardised(X), truth


def elongated_among_round(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One long thin group of 300 (spread 6 against 0.4) between two round groups of 150."""
    rng = np.random.default_rng(seed)
    long = rng.normal(0, 1, (300, 2)) * [6.0, 0.4]
    above = rng.normal(0, 0.6, (150, 2)) + np.array([0, 4])
    below = rng.normal(0, 0.6, (150, 2)) + np.array([0, -4])
    return standardised(np.vstack([long, above, below])), np.repeat([0, 1, 2], [300, 150, 150])


def skewed_unequal(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Money-like columns: three groups of 500, 120 and 40 customers on a log scale."""
    rng = np.random.default_rng(seed)
    sizes, centres = [500, 120, 40], np.array([[3.0, 1.0], [6.0, 3.0], [4.0, 6.0]])
    truth = np.repeat(np.arange(3), sizes)
    spend = np.exp(centres[truth] + rng.normal(0, 0.35, (len(truth), 2)))
    return standardised(np.log1p(spend)), truth


@pytest.mark.parametrize("seed", [0, 1])
def test_two_half_moons_with_noise_go_to_the_density_method(seed):
    X, truth = moons_with_noise(seed)
    result = sweep(X, k_min=2, k_max=8, stability_resamples=RESAMPLES, random_state=seed)
    assert result.selected["family"] == "density"
    assert adjusted_rand_score(truth, result.labels) > 0.9
    reason = result.selected["reason"]
    assert reason.startswith("hdbscan with k = 2 won the density family by the highest DBCV")
    # the runner-up family and the figures it lost on
    assert result.selected["runner_up"]["family"] in ("partition", "mixture")
    assert "DBCV" in reason and "disagree (adjusted Rand" in reason


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("three blobs", lambda seed: make_blobs(600, centers=3, cluster_std=1.0, random_state=seed)),
        ("elongated among round", elongated_among_round),
        ("unequal skewed groups", skewed_unequal),
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_convex_elongated_and_unequal_groups_are_recovered_whole(name, data, seed):
    X, truth = data(seed)
    result = sweep(standardised(X), k_min=2, k_max=7, stability_resamples=RESAMPLES, random_state=seed)
    assert result.selected["k"] == 3, result.selected["reason"]
    assert adjusted_rand_score(truth, result.labels) > 0.9, result.selected["reason"]
    assert result.selected["family"] in ("partition", "mixture", "density")


def test_an_elongated_group_is_not_cut_by_the_partition_but_kept_by_the_mixture():
    X, truth = elongated_among_round(3)
    result = sweep(X, algorithms=["kmeans", "gmm"], k_min=2, k_max=7, stability_resamples=RESAMPLES)
    assert (result.selected["algorithm"], result.selected["k"]) == ("gmm", 3)
    assert adjusted_rand_score(truth, result.labels) > 0.9
    partition = next(c for c in result.candidates if c.get("gaussian_bic") is not None)
    # K-Means cuts the long group: its best partition does not recover the truth
    cut = KMeans(partition["k"], n_init=10, random_state=0).fit_predict(X)
    assert adjusted_rand_score(truth, cut) < 0.9
    assert "ICL" in result.selected["reason"] and "Gaussian BIC" in result.selected["reason"]


def test_icl_is_bic_plus_twice_the_posterior_entropy_of_scikit_learns_mixture():
    X, _ = make_blobs(400, centers=[[0, 0], [2.5, 0], [0, 5]], random_state=4)
    result = sweep(X, algorithms=["gmm"], k_min=2, k_max=4, stability_resamples=0)
    for candidate in result.candidates:
        mixture = GaussianMixture(candidate["k"], covariance_type="full", random_state=0).fit(X)
        p = mixture.predict_proba(X)
        entropy = -np.sum(p[p > 0] * np.log(p[p > 0]))
        assert candidate["bic"] == pytest.approx(mixture.bic(X), rel=1e-9)
        assert candidate["icl"] == pytest.approx(mixture.bic(X) + 2 * entropy, rel=1e-9)
    # the winner is the lowest ICL
    assert result.selected["k"] == min(result.candidates, key=lambda c: c["icl"])["k"]


def test_a_partitions_gaussian_bic_reads_it_as_a_hard_mixture_close_to_the_mixtures_icl():
    X, _ = make_blobs(600, centers=3, random_state=7)
    mixture = GaussianMixture(3, covariance_type="full", random_state=0).fit(X)
    p = mixture.predict_proba(X)
    icl = mixture.bic(X) - 2 * np.sum(p[p > 0] * np.log(p[p > 0]))
    assert gaussian_bic(X, mixture.predict(X)) == pytest.approx(icl, rel=0.01)
    assert gaussian_bic(X, np.zeros(len(X), dtype=int)) is None


def test_pac_is_the_consensus_cdf_at_0_9_minus_at_0_1_over_the_pairs():
    X, _ = make_blobs(120, centers=3, cluster_std=2.5, random_state=0)
    refits: list[tuple[np.ndarray, np.ndarray]] = []

    def refit(rows: np.ndarray, seed: int) -> np.ndarray:
        got = KMeans(4, n_init=1, random_state=seed).fit_predict(rows)
        refits.append((rows, got))
        return got

    labels = KMeans(4, n_init=10, random_state=0).fit_predict(X)
    result = consensus(X, labels, refit, resamples=10, random_state=0)
    # Monti's consensus by hand: for each pair, the share of resamples drawing both that put
    # them together; PAC = CDF(0.9) - CDF(0.1) of those shares (Senbabaoglu et al. 2014).
    together, both = np.zeros((120, 120)), np.zeros((120, 120))
    for rows, got in refits:
        index = np.array([np.flatnonzero((row == X).all(axis=1))[0] for row in rows])
        both[np.ix_(index, index)] += 1
        together[np.ix_(index, index)] += got[:, None] == got[None, :]
    pairs = np.triu_indices(120, k=1)
    drawn = both[pairs] > 0
    shares = together[pairs][drawn] / both[pairs][drawn]

    def cdf(c: float) -> float:
        return float(np.mean(shares <= c))

    assert result.pac == pytest.approx(cdf(0.9) - cdf(0.1), abs=1e-12)
    assert 0 < result.pac < 1


def test_every_partition_and_mixture_candidate_carries_its_pac_and_a_stable_k_has_the_lowest():
    X, _ = make_blobs(500, centers=4, cluster_std=0.8, random_state=3)
    result = sweep(
        standardised(X), algorithms=["kmeans", "gmm", "hdbscan"], k_min=2, k_max=6, stability_resamples=5
    )
    for c in result.candidates:
        assert ("pac" in c) == (c["algorithm"] != "hdbscan")
    kmeans = {c["k"]: c["pac"] for c in result.candidates if c["algorithm"] == "kmeans"}
    assert kmeans[4] == min(kmeans.values()) and kmeans[4] < 0.05 < max(kmeans.values())


def test_the_stability_interval_holds_the_mean_and_narrows_with_more_customers():
    widths = []
    for n in (200, 2_000):
        X, _ = make_blobs(n, centers=3, cluster_std=2.2, random_state=0)
        labels = KMeans(3, n_init=10, random_state=0).fit_predict(X)

        def refit(rows: np.ndarray, seed: int) -> np.ndarray:
            return KMeans(3, n_init=3, random_state=seed).fit_predict(rows)

        entries, jaccard, intervals = full_size_stability(X, labels, refit, 20, 0)
        low, high = entries["stability_interval"]
        assert low <= entries["stability"] <= high
        assert entries["stability_rows"] == n and entries["stability_resamples"] == 20
        assert all(intervals[s][0] <= jaccard[s] <= intervals[s][1] for s in jaccard)
        widths.append(high - low)
    assert widths[1] < widths[0]


def test_the_winner_reports_full_size_stability_while_candidates_keep_the_screening_figure():
    X, _ = make_blobs(3_000, centers=3, cluster_std=1.5, random_state=5)
    result = sweep(standardised(X), algorithms=["kmeans"], k_min=3, k_max=3, stability_resamples=6)
    selected = result.selected
    assert selected["stability_rows"] == 3_000 and selected["stability_resamples"] == 6
    low, high = selected["stability_interval"]
    assert low <= selected["stability"] <= high
    assert set(selected["segment_jaccard"]) == set(selected["segment_jaccard_interval"]) == {"0", "1", "2"}
    assert result.candidates[0]["stability"] != selected["stability"]  # screened on 2,000 rows


def test_the_reason_names_both_families_and_the_figures_that_decided():
    candidates = [
        {"algorithm": "kmeans", "k": 8, "silhouette": 0.50, "stability": 0.81, "pac": 0.04},
        {
            "algorithm": "hdbscan",
            "k": 2,
            "silhouette": 0.39,
            "stability": 1.0,
            "dbcv": 0.42,
            "noise_share": 0.01,
        },
    ]
    agreement = {(1, 0): 0.25}
    from segmentation.clustering.selection import Comparisons

    compare = Comparisons(
        agreement=lambda i, j: agreement.get((i, j)), dbcv=lambda i: -0.24, gaussian_bic=lambda i: None
    )
    winner, reason = select(candidates, compare=compare)
    assert winner == 1
    assert (
        "DBCV (0.42) beats kmeans with k = 8's (-0.24) by 0.3 or more" in reason
        and "adjusted Rand 0.25" in reason
    )
    # the same density finalist, unstable, loses and the reason says so
    candidates[1]["stability"] = 0.7
    winner, reason = select(candidates, compare=compare)
    assert winner == 0 and "hdbscan with k = 2's stability 0.70 is below 0.8" in reason


def test_the_pipeline_delivers_the_density_segmentation_on_moons():
    X, truth = make_moons(600, noise=0.06, random_state=2)
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(X))], "x": X[:, 0] * 300, "y": X[:, 1]})
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": ["x", "y"],
            "k_min": 2,
            "k_max": 8,
            "stability_resamples": 6,
        }
    )
    result = segment(frame, spec)
    selected = result.metrics_view.selected
    assert (selected.algorithm, selected.family) == ("hdbscan", "density")
    assert adjusted_rand_score(truth, result.labels["segment"].to_numpy()) > 0.9
    assert selected.stability_interval is not None
    assert selected.stability_interval[0] <= selected.stability <= selected.stability_interval[1]
    assert set(selected.segment_jaccard_interval) == set(range(selected.k))
    assert result.metrics_view.runner_up() is not None
    assert result.metrics_view.runner_up().family == selected.runner_up.family


def test_a_small_sample_is_segmented_with_an_interval_and_a_reason_for_every_check():
    X, truth = make_blobs(40, centers=[[0, 0], [6, 6]], cluster_std=0.7, random_state=0)
    result = sweep(standardised(X), k_min=2, k_max=4, stability_resamples=6)
    assert adjusted_rand_score(truth, result.labels) > 0.9
    low, high = result.selected["stability_interval"]
    assert 0 <= low <= result.selected["stability"] <= high <= 1
    assert result.selected["stability_rows"] == 40
    assert result.selected["reason"].count(" family") >= 2
