"""Validity indices equal scikit-learn's, DBCV ranks density clusterings sensibly, stability and
consensus tell clean structure from noise, and outcome statistics equal their references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segmentation.clustering.sampling import sample_rows
from segmentation.clustering.stability import bootstrap_stability, consensus
from segmentation.clustering.validation import (
    calinski_harabasz,
    davies_bouldin,
    dbcv,
    silhouette,
    silhouettes,
)
from segmentation.explain.outcomes import outcome_association, outcome_values, wilson_interval


def kmeans_refit(k: int):  # type: ignore[no-untyped-def]
    return lambda rows, seed: KMeans(n_clusters=k, n_init=3, random_state=seed).fit(rows).labels_


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs(400, centers=4, n_features=3, random_state=2)


def test_silhouettes_of_many_labellings_equal_scikit_learns_one_by_one(blobs):
    X, truth = blobs
    rng = np.random.default_rng(0)
    with_singleton = truth.copy()
    with_singleton[0] = 9
    labellings = [truth, rng.integers(0, 3, len(X)), with_singleton]
    ours = silhouettes(X, labellings)
    for labels, value in zip(labellings, ours, strict=True):
        assert value == pytest.approx(silhouette_score(X, labels), abs=1e-12)


def test_noise_is_left_out_and_large_inputs_are_scored_on_a_seeded_sample(blobs):
    X, truth = blobs
    noisy = truth.copy()
    noisy[::7] = -1
    kept = noisy >= 0
    assert silhouette(X, noisy) == pytest.approx(silhouette_score(X[kept], noisy[kept]), abs=1e-12)
    rows = sample_rows(len(X), 150, random_state=5)
    assert silhouette(X, truth, sample_size=150, random_state=5) == pytest.approx(
        silhouette_score(X[rows], truth[rows]), abs=1e-12
    )
    assert silhouette(X, np.zeros(len(X), dtype=int)) is None


def test_davies_bouldin_and_calinski_harabasz_equal_scikit_learns(blobs):
    X, truth = blobs
    assert davies_bouldin(X, truth) == davies_bouldin_score(X, truth)
    assert calinski_harabasz(X, truth) == calinski_harabasz_score(X, truth)


def test_dbcv_ranks_the_true_moons_above_a_k_means_cut_and_penalises_noise():
    X, truth = make_moons(300, noise=0.05, random_state=0)
    cut = KMeans(n_clusters=2, n_init=10, random_state=0).fit(X).labels_
    right, wrong = dbcv(X, truth), dbcv(X, cut)
    assert -1 <= wrong < right <= 1
    assert right > 0.3
    noisy = truth.copy()
    noisy[:60] = -1
    assert dbcv(X, noisy) < right


def test_dbcv_prefers_well_separated_blobs_to_a_random_split(blobs):
    X, truth = blobs
    shuffled = np.random.default_rng(1).permutation(truth)
    assert dbcv(X, truth) > 0 > -0.5 > dbcv(X, shuffled)


def test_bootstrap_stability_is_near_one_on_clean_blobs_and_lower_on_noise(blobs):
    X, _ = blobs
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit(X).labels_
    clean = bootstrap_stability(X, labels, kmeans_refit(4), resamples=10, random_state=0)
    assert clean.mean_ari > 0.95
    assert min(clean.jaccard.values()) > 0.9
    noise = np.random.default_rng(3).uniform(size=(400, 3))
    noise_labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit(noise).labels_
    shaky = bootstrap_stability(noise, noise_labels, kmeans_refit(4), resamples=10, random_state=0)
    assert shaky.mean_ari < clean.mean_ari - 0.1
    assert len(shaky.aris) == 10


def test_stability_is_reproducible_for_a_seed(blobs):
    X, truth = blobs
    first = bootstrap_stability(X, truth, kmeans_refit(4), resamples=5, random_state=7)
    second = bootstrap_stability(X, truth, kmeans_refit(4), resamples=5, random_state=7)
    assert first == second


def test_consensus_is_unanimous_on_clean_blobs_and_ambiguous_on_noise(blobs):
    X, truth = blobs
    clean = consensus(X, truth, kmeans_refit(4), resamples=10, random_state=0)
    assert clean.index > 0.95
    assert clean.matrix.shape == (400, 400)
    assert all(v > 0.95 for v in clean.within.values())
    noise = np.random.default_rng(3).uniform(size=(400, 3))
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit(noise).labels_
    assert consensus(noise, labels, kmeans_refit(4), resamples=10, random_state=0).index < clean.index


def test_wilson_interval_matches_the_textbook_value():
    # Wilson (1927) interval for 8 successes in 10 trials at 95%: (0.4902, 0.9433).
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 20)[0] == 0.0


def test_a_binary_outcome_gets_rates_a_chi_square_test_and_cramers_v():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 200)
    churn = (rng.random(600) < np.array([0.1, 0.3, 0.5])[labels]).astype(float)
    churn[5] = np.nan
    result = outcome_association(labels, churn, name="churned")
    keep = ~np.isnan(churn)
    table = np.array([[np.sum((labels[keep] == s) & (churn[keep] == o)) for o in (0, 1)] for s in range(3)])
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    assert result["kind"] == "rate" and result["test"] == "chi_square"
    assert result["statistic"] == pytest.approx(chi2) and result["p_value"] == pytest.approx(p)
    assert result["effect_size"] == pytest.approx(association(table, method="cramer"))
    assert result["rows_left_out"] == 1
    first = result["segments"][0]
    assert first["ci_low"] < first["rate"] < first["ci_high"]


def test_a_yes_no_outcome_is_read_as_a_rate_and_numbers_stay_numbers():
    churn = pd.Series(["Yes", "no", None, " YES ", "No"])
    assert outcome_values(churn).tolist()[:2] == [1.0, 0.0] and np.isnan(outcome_values(churn)[2])
    assert outcome_values(pd.Series([True, False])).tolist() == [1.0, 0.0]
    # a column mixing words and numbers is a numeric column with unreadable cells
    assert np.isnan(outcome_values(pd.Series(["12.5", "yes", "3"]))).tolist() == [False, True, False]
    result = outcome_association(np.array([0, 0, 1, 1, 1]), outcome_values(churn), name="Churn")
    assert result["kind"] == "rate" and result["rows_left_out"] == 1


def test_a_numeric_outcome_gets_means_kruskal_wallis_and_epsilon_squared():
    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1], 100)
    revenue = rng.gamma(2.0, np.array([50.0, 80.0])[labels])
    result = outcome_association(labels, revenue, name="revenue")
    h, p = stats.kruskal(revenue[labels == 0], revenue[labels == 1])
    assert result["test"] == "kruskal_wallis"
    assert result["statistic"] == pytest.approx(h) and result["p_value"] == pytest.approx(p)
    assert result["effect_size"] == pytest.approx(h * 201 / (200**2 - 1))
    assert result["segments"][1]["mean"] == pytest.approx(revenue[labels == 1].mean())


def test_a_sparse_table_gets_a_permutation_p_value_that_agrees_with_scipys():
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2, 3], [40, 12, 6, 5])  # small segments: most expected counts below 5
    churn = (rng.random(len(labels)) < np.array([0.05, 0.2, 0.5, 0.6])[labels]).astype(float)
    result = outcome_association(labels, churn, name="churned", seed=1)
    assert result["p_value_method"].startswith("monte_carlo")

    def chi_square(values):  # type: ignore[no-untyped-def]
        table = np.array([[np.sum((labels == s) & (values == o)) for o in (0, 1)] for s in range(4)])
        return stats.chi2_contingency(table, correction=False)[0]

    reference = stats.permutation_test(
        (churn,),
        chi_square,
        permutation_type="pairings",
        n_resamples=1999,
        alternative="greater",
        random_state=2,
    )
    assert result["statistic"] == pytest.approx(chi_square(churn))
    assert abs(result["p_value"] - reference.pvalue) < 0.03  # two Monte-Carlo estimates of one p-value


def test_each_segment_is_tested_against_the_rest_and_every_p_value_is_adjusted_for_the_run():
    from segmentation.explain.outcomes import outcome_associations

    rng = np.random.default_rng(4)
    labels = np.repeat([0, 1, 2], 150)
    frame = pd.DataFrame(
        {
            "Churn": np.where(rng.random(450) < np.array([0.1, 0.2, 0.5])[labels], "Yes", "No"),
            "revenue": rng.gamma(2.0, np.array([50.0, 52.0, 90.0])[labels]),
        }
    )
    churn, revenue = outcome_associations(labels, frame)
    assert churn["mapping"] == {"No": 0.0, "Yes": 1.0} and revenue["mapping"] is None
    inside = labels == 2
    yes = frame["Churn"].eq("Yes").to_numpy()
    table = [
        [int((inside & ~yes).sum()), int((inside & yes).sum())],
        [int((~inside & ~yes).sum()), int((~inside & yes).sum())],
    ]
    assert churn["segments"][2]["p_value"] == pytest.approx(stats.fisher_exact(table).pvalue)
    assert revenue["segments"][0]["p_value"] == pytest.approx(
        stats.mannwhitneyu(frame["revenue"][labels == 0], frame["revenue"][labels != 0]).pvalue
    )
    # Benjamini-Hochberg by hand over the six per-segment tests: p * m / rank, then the running minimum
    tests = [s for r in (churn, revenue) for s in r["segments"]]
    raw = np.array([s["p_value"] for s in tests])
    order = np.argsort(raw)
    scaled = raw[order] * len(raw) / np.arange(1, len(raw) + 1)
    expected = np.empty_like(raw)
    expected[order] = np.minimum(1, np.minimum.accumulate(scaled[::-1])[::-1])
    assert [s["p_adjusted"] for s in tests] == pytest.approx(expected.tolist())
    assert churn["p_adjusted"] >= churn["p_value"] and revenue["p_adjusted"] >= revenue["p_value"]


def test_dbcv_reads_a_cluster_of_identical_customers_as_perfectly_dense():
    """One-purchase customers of a sparse log are often identical: their cluster's spanning tree has
    only zero-length edges, which scipy's sparse tree does not keep. It must score, not crash."""
    rng = np.random.default_rng(0)
    spread = rng.normal(0, 0.3, (60, 3))
    identical = np.tile([8.0, 8.0, 8.0], (40, 1))
    X, labels = np.vstack([spread, identical]), np.repeat([0, 1], [60, 40])
    value = dbcv(X, labels)
    assert value is not None and -1 <= value <= 1
    assert value > dbcv(X, np.random.default_rng(1).permutation(labels))
