"""The clustering algorithms the engine offers, each a configured scikit-learn-style estimator.

``make_estimator(name, k, random_state=...)`` returns an unfitted estimator whose ``fit(X)``
sets ``labels_`` (``-1`` = noise for density methods) and whose ``predict(X)`` assigns new rows:
natively for K-Means and mixtures, by the nearest exemplar (a training point or micro-cluster
centre, with a noise radius for DBSCAN) for the others.

Methods whose cost grows faster than linearly (density, hierarchical, spectral, Gower) never see
more rows than their module's limit: beyond it they fit on a seeded random sample (or, for ward
agglomerative, on a few hundred MiniBatch K-Means micro-clusters) and assign the rest by the
nearest exemplar. ``note_`` says so in words for the report. The estimators live by family:
:mod:`~segmentation.clustering.hierarchical`, :mod:`~segmentation.clustering.spectral`,
:mod:`~segmentation.clustering.density` and, for tables mixing numbers and categories
(``kprototypes``, ``gower_agglomerative``, ``gower_hdbscan``), :mod:`~segmentation.clustering.mixed`.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.mixture import GaussianMixture

from ..errors import SegmentationError
from .density import HDBSCANClusterer, KneeDBSCAN
from .hierarchical import Agglomerative
from .mixed import GowerClusterer, KPrototypesClusterer
from .spectral import Spectral

ALGORITHMS = (
    "kmeans",
    "minibatch_kmeans",
    "agglomerative",
    "dbscan",
    "hdbscan",
    "gmm",
    "spectral",
    "kprototypes",
    "gower_agglomerative",
    "gower_hdbscan",
)
# Algorithms that find the number of segments themselves: the sweep runs them once, not per k.
FINDS_K = frozenset({"dbscan", "hdbscan", "gower_hdbscan"})
MIXED = frozenset({"kprototypes", "gower_agglomerative", "gower_hdbscan"})

KMEANS_INITS = 10


def make_estimator(
    name: str, k: int | None = None, *, random_state: int = 0, n_numeric: int | None = None
) -> BaseEstimator:
    """An unfitted estimator for algorithm ``name`` with ``k`` segments (ignored by density methods)."""
    if name not in ALGORITHMS:
        raise SegmentationError(f"unknown algorithm '{name}'; choose from {', '.join(ALGORITHMS)}")
    if name in MIXED and n_numeric is None:
        raise SegmentationError(f"algorithm '{name}' needs n_numeric, the count of numeric columns")
    if name == "dbscan":
        return KneeDBSCAN(random_state=random_state)
    if name == "hdbscan":
        return HDBSCANClusterer(random_state=random_state)
    if name == "gower_hdbscan":
        return GowerClusterer(n_numeric=n_numeric, method="hdbscan", random_state=random_state)
    if k is None or k < 1:
        raise SegmentationError(f"algorithm '{name}' needs a number of segments k ≥ 1")
    if name == "kmeans":
        return KMeans(n_clusters=k, n_init=KMEANS_INITS, random_state=random_state)
    if name == "minibatch_kmeans":
        return MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=random_state)
    if name == "gmm":
        return GaussianMixture(n_components=k, covariance_type="full", random_state=random_state)
    if name == "agglomerative":
        return Agglomerative(n_clusters=k, linkage="ward", random_state=random_state)
    if name == "spectral":
        return Spectral(n_clusters=k, random_state=random_state)
    if name == "kprototypes":
        return KPrototypesClusterer(n_clusters=k, n_numeric=n_numeric, random_state=random_state)
    return GowerClusterer(
        n_clusters=k, n_numeric=n_numeric, method="agglomerative", random_state=random_state
    )
