"""Every algorithm hands over its own way of labelling a new customer, and the scorer agrees.

K-Means and mixtures keep their own predict; density, hierarchical and spectral methods assign
by several exemplars per segment (so a crescent stays a crescent) with a noise threshold for
density methods; K-Prototypes and Gower keep their categories and their own dissimilarity.
"""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from segmentation import SegmentationSpec, segment
from segmentation.model.artefact import SegmentationModel
from segmentation.sql.scorer import compile_scorer

NATIVE = {"kmeans", "minibatch_kmeans", "gmm"}


def table(points: np.ndarray, **categorical: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"customer_id": [f"c{i:04d}" for i in range(len(points))], "x": points[:, 0], "y": points[:, 1]}
    )
    for name, values in categorical.items():
        frame[name] = values
    return frame


def run(frame: pd.DataFrame, algorithm: str, **keys):  # type: ignore[no-untyped-def]
    spec = {
        "id_column": "customer_id",
        "numeric_columns": ["x", "y"],
        "k_min": 2,
        "k_max": 4,
        "algorithms": [algorithm],
        "stability_resamples": 0,
        **keys,
    }
    return segment(frame, SegmentationSpec.from_dict(spec))


def sqlite_labels(model: SegmentationModel, frame: pd.DataFrame) -> np.ndarray:
    connection = sqlite3.connect(":memory:")
    frame.to_sql("customers", connection, index=False)
    rows = connection.execute(compile_scorer(model, "sqlite")).fetchall()
    by_id = {customer: segment for customer, segment, _ in rows}
    return np.array([by_id[c] for c in frame["customer_id"]], dtype=np.int64)


def delivered(result) -> np.ndarray:  # type: ignore[no-untyped-def]
    return result.labels["segment"].to_numpy(dtype=np.int64)


@pytest.fixture(scope="module")
def blobs() -> pd.DataFrame:
    points, _ = make_blobs(600, centers=3, cluster_std=0.6, random_state=3)
    return table(points)


@pytest.mark.parametrize(
    "algorithm", ["kmeans", "minibatch_kmeans", "gmm", "agglomerative", "spectral", "dbscan", "hdbscan"]
)
def test_each_algorithm_labels_customers_by_its_own_rule_exactly_as_the_sql_scorer(blobs, algorithm):
    result = run(blobs, algorithm)
    selected = result.metrics["selected"]
    assert selected["algorithm"] == algorithm
    labels = delivered(result)
    assert np.array_equal(result.model.predict(blobs), labels)
    assert np.array_equal(sqlite_labels(result.model, blobs), labels)
    expected_kind = "gaussian_mixture" if algorithm == "gmm" else "nearest_exemplar"
    assert result.model.assigner.kind == expected_kind
    # Native rules reproduce the clustering; exemplars cost at most a few border customers.
    assert selected["assignment_agreement"] >= (0.999 if algorithm in NATIVE else 0.97)
    assert f"{selected['assignment_agreement']:.1%}" in selected["assignment"]


def test_a_mixture_winner_keeps_its_own_predict_and_soft_memberships(blobs):
    result = run(blobs, "gmm", k_min=3, k_max=3)
    space = result.model.transform(blobs)
    reference = GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(space)
    labels = delivered(result)
    assert adjusted_rand_score(reference.predict(space), labels) == 1.0
    memberships = result.model.predict_proba(blobs)
    assert memberships.shape == (600, 3) and np.allclose(memberships.sum(axis=1), 1.0)
    assert np.array_equal(memberships.argmax(axis=1), labels)
    assert np.allclose(
        np.sort(memberships, axis=1), np.sort(reference.predict_proba(space), axis=1), atol=1e-6
    )


@pytest.mark.parametrize("algorithm", ["hdbscan", "spectral"])
def test_a_crescent_segment_keeps_its_shape_for_customers_never_seen(algorithm):
    points, truth = make_moons(600, noise=0.05, random_state=0)
    frame = table(points)
    result = run(frame, algorithm, k_min=2, k_max=2)
    assert adjusted_rand_score(truth, delivered(result)) >= 0.9

    newcomers, new_truth = make_moons(2000, noise=0.05, random_state=1)
    fresh = table(newcomers)
    predicted = result.model.predict(fresh)
    assert adjusted_rand_score(new_truth, predicted) >= 0.9
    assert np.array_equal(sqlite_labels(result.model, fresh), predicted)

    # What the model used to do, one mean per segment, cuts the crescents straight through.
    space = result.model.transform(frame)
    labels = delivered(result)
    means = np.stack([space[labels == k].mean(axis=0) for k in range(2)])
    fresh_space = result.model.transform(fresh)
    by_means = np.argmin(((fresh_space[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert adjusted_rand_score(new_truth, by_means) < 0.6


def test_a_density_winner_calls_a_far_away_newcomer_noise_in_python_and_in_sql(blobs):
    result = run(blobs, "hdbscan")
    model = result.model
    assert model.assigner.noise_radius_sq is not None
    far = pd.DataFrame(
        {"customer_id": ["far", "near"], "x": [60.0, blobs["x"][0]], "y": [-60.0, blobs["y"][0]]}
    )
    labels = model.predict(far)
    assert labels[0] == -1 and labels[1] == delivered(result)[0] >= 0
    assert model.names_of(labels)[0] == "Unassigned"
    connection = sqlite3.connect(":memory:")
    far.to_sql("customers", connection, index=False)
    rows = dict((c, (s, n)) for c, s, n in connection.execute(compile_scorer(model, "sqlite")))
    assert rows["far"] == (-1, "Unassigned") and rows["near"][0] == labels[1]


def mixed(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three groups planted in two numbers and in a channel each prefers 97% of the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[truth] + rng.normal(0, 0.6, (n, 2))
    favourite = np.array(["web", "store", "phone"])[truth]
    channel = np.where(rng.random(n) < 0.97, favourite, rng.choice(["web", "store", "phone"], n))
    return table(points, channel=channel.astype(object)), truth


@pytest.mark.parametrize("algorithm", ["kprototypes", "gower_agglomerative", "gower_hdbscan"])
def test_mixed_type_winners_keep_their_categories_and_their_own_dissimilarity(algorithm):
    frame, truth = mixed()
    result = run(frame, algorithm, k_min=3, k_max=3, categorical_columns=["channel"])
    model, labels = result.model, delivered(result)
    assert "channel" in model.features and model.preprocessor.categorical[0].levels == (
        "phone",
        "store",
        "web",
    )
    assert adjusted_rand_score(truth, labels) >= 0.85
    assert result.metrics["selected"]["assignment_agreement"] >= 0.97
    assert np.array_equal(sqlite_labels(model, frame), labels)
    unseen = frame.head(20).assign(channel="fax")  # a level never seen is a mismatch, not an error
    assert np.array_equal(sqlite_labels(model, unseen), model.predict(unseen))


def test_k_prototypes_one_hot_weight_is_its_gamma_so_a_mismatch_costs_what_it_cost_the_clustering():
    frame, _ = mixed()
    result = run(frame, "kprototypes", k_min=3, k_max=3, categorical_columns=["channel"])
    column = result.model.preprocessor.categorical[0]
    exemplars = np.asarray(result.model.assigner.exemplars)
    one_hot = exemplars[:, 2:]
    # Each prototype holds exactly one mode: one one-hot cell at the weight, the rest zero.
    assert np.all((one_hot == 0) | np.isclose(one_hot, column.weight)) and np.all(
        (one_hot > 0).sum(axis=1) == 1
    )
    mismatch = 2 * column.weight**2
    assert 0 < mismatch < 10 and math.isfinite(mismatch)


def test_gower_assignment_is_the_manhattan_distance_over_ranges_and_halves():
    frame, _ = mixed()
    result = run(frame, "gower_agglomerative", k_min=3, k_max=3, categorical_columns=["channel"])
    assert result.model.assigner.metric == "manhattan"
    assert result.model.preprocessor.categorical[0].weight == 0.5
    assert "Gower distance" in result.metrics["selected"]["assignment"]


@pytest.mark.parametrize("algorithm", ["kmeans", "gmm", "hdbscan"])
def test_numeric_algorithms_with_categories_assign_in_the_space_they_clustered(algorithm):
    frame, truth = mixed()
    frame.loc[::25, "channel"] = None  # missing levels: all zeros in the sweep's space, and here
    result = run(frame, algorithm, k_min=3, k_max=3, categorical_columns=["channel"])
    model, labels = result.model, delivered(result)
    assert "channel" in model.features
    # The projection keeps the three level columns and drops 'other' and 'missing'.
    assert len(model.projection.components) == 2 + 3
    minimum = 0.97 if algorithm == "hdbscan" else 0.999
    assert result.metrics["selected"]["assignment_agreement"] >= minimum
    assert adjusted_rand_score(truth, labels) >= 0.85
    probe = frame.head(30).assign(channel=["fax", None, "web"] * 10)
    assert np.array_equal(sqlite_labels(model, probe), model.predict(probe))


def test_ward_on_many_customers_hands_over_its_micro_cluster_centres_as_its_own_rule():
    points, _ = make_blobs(6000, centers=4, cluster_std=1.5, random_state=8)
    frame = table(points)
    result = run(frame, "agglomerative", k_min=4, k_max=4)
    selected = result.metrics["selected"]
    assert "micro-cluster centres (its own predict)" in selected["assignment"]
    assert selected["assignment_agreement"] == 1.0
    assert len(result.model.assigner.exemplars) == 300
    assert np.array_equal(sqlite_labels(result.model, frame), delivered(result))
