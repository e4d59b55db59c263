"""Every engine clusterer passes scikit-learn's own estimator checks, and none escapes them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from segmentation.clustering.algorithms import ALGORITHMS, make_estimator
from segmentation.clustering.density import HDBSCANClusterer, KneeDBSCAN
from segmentation.clustering.hierarchical import Agglomerative
from segmentation.clustering.mixed import GowerClusterer, KPrototypesClusterer
from segmentation.clustering.spectral import Spectral

# Each engine class in every configuration that changes how it fits. The mixed-type clusterers
# are checked numbers-only (their default): the checks' data has no categorical columns.
CHECKED = [
    Agglomerative(),
    Agglomerative(linkage="average"),
    Spectral(),
    KneeDBSCAN(),
    HDBSCANClusterer(),
    KPrototypesClusterer(),
    GowerClusterer(),
    GowerClusterer(method="hdbscan"),
]


@parametrize_with_checks(CHECKED)
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_is_scikit_learns_own_or_a_checked_engine_class(name):
    estimator = make_estimator(name, 2, n_numeric=1)
    engine = estimator.__class__.__module__.startswith("segmentation.")
    assert not engine or type(estimator) in {type(e) for e in CHECKED}


def test_gower_clustering_takes_missing_numbers_and_refuses_infinite_ones():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 0.3, (20, 2)), rng.normal(4, 0.3, (20, 2))])
    X[::5, 0] = np.nan  # Gower's mean skips the missing feature of the pair
    fitted = GowerClusterer(n_clusters=2).fit(X)
    assert sorted(np.bincount(fitted.labels_)) == [20, 20]
    X[0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        GowerClusterer(n_clusters=2).fit(X)


def test_k_prototypes_without_a_categorical_column_is_k_means_on_the_numbers():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 0.3, (20, 2)), rng.normal(4, 0.3, (20, 2))])
    fitted = KPrototypesClusterer(n_clusters=2, n_numeric=2).fit(X)
    assert sorted(np.bincount(fitted.labels_)) == [20, 20]
    assert (fitted.predict(X) == fitted.labels_).all()
