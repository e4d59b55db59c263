"""Each algorithm recovers structure it suits, equals scikit-learn where it is scikit-learn, and is
deterministic for a seed."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from segmentation.clustering import density, hierarchical, mixed
from segmentation.clustering.algorithms import make_estimator
from segmentation.clustering.gower import encode_categories, gower_distances
from segmentation.errors import SegmentationError


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs(600, centers=4, n_features=3, cluster_std=1.0, random_state=1)


def anisotropic() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_blobs(600, centers=3, n_features=2, random_state=170)
    return X @ np.array([[0.6, -0.64], [-0.41, 0.85]]), y


def mixed_table(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three planted groups that differ in two numbers and in a category each prefers 90% of the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    numeric = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[truth] + rng.normal(0, 0.5, (n, 2))
    favourite = np.array(["web", "store", "phone"])[truth]
    channel = np.where(rng.random(n) < 0.9, favourite, rng.choice(["web", "store", "phone"], n))
    plan = np.where(truth == 0, "basic", np.where(rng.random(n) < 0.5, "plus", "pro"))
    categorical = np.column_stack([channel, plan]).astype(object)
    return numeric, categorical, truth


@pytest.mark.parametrize(
    "name", ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "spectral", "dbscan", "hdbscan"]
)
def test_each_numeric_algorithm_recovers_well_separated_blobs(name, blobs):
    X, truth = blobs
    fitted = make_estimator(name, 4, random_state=0).fit(X)
    labels = fitted.labels_ if hasattr(fitted, "labels_") else fitted.predict(X)
    assert adjusted_rand_score(truth, labels) >= 0.9


@pytest.mark.parametrize("name", ["dbscan", "hdbscan", "spectral"])
@pytest.mark.parametrize("shape", ["moons", "circles"])
def test_density_and_spectral_methods_recover_moons_and_rings(name, shape):
    X, truth = (
        make_moons(600, noise=0.05, random_state=0)
        if shape == "moons"
        else make_circles(600, noise=0.04, factor=0.4, random_state=0)
    )
    fitted = make_estimator(name, 2, random_state=0).fit(X)
    assert adjusted_rand_score(truth, fitted.labels_) >= 0.9


def test_a_gaussian_mixture_recovers_anisotropic_blobs_that_k_means_splits_wrongly():
    X, truth = anisotropic()
    mixture = make_estimator("gmm", 3, random_state=0).fit(X)
    assert adjusted_rand_score(truth, mixture.predict(X)) >= 0.9
    assert mixture.predict_proba(X).shape == (600, 3)  # soft memberships
    assert np.isfinite(mixture.bic(X))


def test_k_means_and_the_mixture_are_scikit_learns_with_ten_starts(blobs):
    X, _ = blobs
    ours = make_estimator("kmeans", 4, random_state=3).fit(X)
    theirs = KMeans(n_clusters=4, n_init=10, random_state=3).fit(X)
    assert (ours.labels_ == theirs.labels_).all()
    mixture = make_estimator("gmm", 4, random_state=3).fit(X)
    reference = GaussianMixture(n_components=4, covariance_type="full", random_state=3).fit(X)
    assert (mixture.predict(X) == reference.predict(X)).all()


@pytest.mark.parametrize("linkage", ["ward", "average"])
def test_agglomerative_keeps_the_dendrogram_and_equals_scikit_learn(linkage, blobs):
    X, _ = blobs
    ours = hierarchical.Agglomerative(n_clusters=4, linkage=linkage).fit(X)
    theirs = AgglomerativeClustering(n_clusters=4, linkage=linkage, compute_distances=True).fit(X)
    assert (ours.labels_ == theirs.labels_).all()
    assert ours.children_.shape == (len(X) - 1, 2)
    assert np.allclose(ours.distances_, theirs.distances_)
    assert (ours.predict(X) == ours.labels_).all()


def test_large_inputs_go_through_micro_clusters_or_a_sample_and_say_so(monkeypatch, blobs):
    X, truth = blobs
    monkeypatch.setattr(hierarchical, "AGGLOMERATIVE_ROWS", 200)
    monkeypatch.setattr(hierarchical, "MICRO_CLUSTERS", 50)
    two_step = make_estimator("agglomerative", 4, random_state=0).fit(X)
    assert "micro-clusters" in two_step.note_
    assert adjusted_rand_score(truth, two_step.labels_) >= 0.9
    monkeypatch.setattr(density.HDBSCANClusterer, "_max_rows", 300)
    sampled = make_estimator("hdbscan", random_state=0).fit(X)
    assert "random sample of 300 of 600 customers" in sampled.note_
    assert adjusted_rand_score(truth, sampled.labels_) >= 0.9


@pytest.mark.parametrize(
    "name", ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "spectral", "dbscan", "hdbscan"]
)
def test_the_same_seed_gives_the_same_labels(name, blobs):
    X, _ = blobs
    first = make_estimator(name, 4, random_state=11).fit(X)
    second = make_estimator(name, 4, random_state=11).fit(X.copy())
    assert (first.predict(X) == second.predict(X)).all()


def test_dbscan_calls_a_far_away_newcomer_noise_and_a_nearby_one_a_member(blobs):
    X, _ = blobs
    fitted = make_estimator("dbscan", random_state=0).fit(X)
    labels = fitted.predict(np.vstack([X[:1], X[:1] + 1e3]))
    assert labels[0] == fitted.labels_[0] >= 0
    assert labels[1] == -1


def test_gower_distance_equals_a_brute_force_reference_with_missing_cells():
    rng = np.random.default_rng(4)
    numeric = rng.normal(size=(25, 3))
    numeric[rng.random(numeric.shape) < 0.1] = np.nan
    categorical = rng.choice(["a", "b", "c", None], size=(25, 2)).astype(object)
    codes, _ = encode_categories(categorical)
    ranges = np.nanmax(numeric, axis=0) - np.nanmin(numeric, axis=0)
    expected = np.zeros((25, 25))
    for i in range(25):
        for j in range(25):
            parts = []
            for f in range(3):
                if not (np.isnan(numeric[i, f]) or np.isnan(numeric[j, f])):
                    parts.append(abs(numeric[i, f] - numeric[j, f]) / ranges[f])
            for f in range(2):
                if categorical[i, f] is not None and categorical[j, f] is not None:
                    parts.append(float(categorical[i, f] != categorical[j, f]))
            expected[i, j] = np.mean(parts) if parts else 1.0
    assert np.allclose(gower_distances(numeric, codes), expected)


@pytest.mark.parametrize("name", ["kprototypes", "gower_agglomerative"])
def test_mixed_type_algorithms_recover_groups_planted_in_numbers_and_categories(name):
    numeric, categorical, truth = mixed_table()
    matrix = np.hstack([numeric, encode_categories(categorical)[0]])
    fitted = make_estimator(name, 3, random_state=0, n_numeric=2).fit(matrix)
    assert adjusted_rand_score(truth, fitted.labels_) >= 0.9
    assert adjusted_rand_score(truth, fitted.predict(matrix)) >= 0.9


def test_gower_agglomerative_on_a_sample_assigns_the_rest_by_exemplars(monkeypatch):
    numeric, categorical, truth = mixed_table(600, seed=1)
    monkeypatch.setattr(mixed, "GOWER_ROWS", 200)
    matrix = np.hstack([numeric, encode_categories(categorical)[0]])
    fitted = make_estimator("gower_agglomerative", 3, random_state=0, n_numeric=2).fit(matrix)
    assert "random sample of 200 of 600" in fitted.note_
    assert adjusted_rand_score(truth, fitted.labels_) >= 0.9


def test_an_unknown_algorithm_or_a_missing_k_is_refused_by_name():
    with pytest.raises(SegmentationError, match="unknown algorithm 'kmedoids'"):
        make_estimator("kmedoids", 3)
    with pytest.raises(SegmentationError, match="needs a number of segments"):
        make_estimator("kmeans")


def test_gower_hdbscan_finds_groups_planted_in_numbers_and_a_category_without_being_told_k():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 3, 300)
    numeric = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[truth] + rng.normal(0, 0.5, (300, 2))
    channel = np.array(["web", "store", "phone"])[truth][:, None].astype(object)
    matrix = np.hstack([numeric, encode_categories(channel)[0]])
    fitted = make_estimator("gower_hdbscan", random_state=0, n_numeric=2).fit(matrix)
    assert adjusted_rand_score(truth, fitted.labels_) >= 0.9


def test_blank_and_missing_categories_of_every_kind_are_one_missing_code():
    import pandas as pd

    cells = np.array([["web"], [""], [None], [np.nan], [pd.NA], ["store"]], dtype=object)
    codes, levels = encode_categories(cells)
    assert codes[:, 0].tolist() == [1, -1, -1, -1, -1, 0] and levels[0].tolist() == ["store", "web"]
