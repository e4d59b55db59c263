"""The clustering algorithms the engine offers, each a configured scikit-learn-style estimator.

``make_estimator(name, k, random_state=...)`` returns an unfitted estimator whose ``fit(X)``
sets ``labels_`` (``-1`` = noise for density methods) and whose ``predict(X)`` assigns new rows:
natively for K-Means and mixtures, by the nearest exemplar (a training point or micro-cluster
centre, with a noise radius for DBSCAN) for the others.

Methods whose cost grows faster than linearly (density, hierarchical, spectral, Gower) never see
more rows than the limits below: beyond them they fit on a seeded random sample (or, for ward
agglomerative, on a few hundred MiniBatch K-Means micro-clusters) and assign the rest by the
nearest exemplar. ``note_`` says so in words for the report. The limits come from
/work/shared/PERFORMANCE.md (2 cores): ward 2.6 s at 10k rows and 45 s at 30k, spectral 1.6 s at
10k, HDBSCAN 17–20 s at 100k, a 5k Gower matrix 9.5 s, K-Prototypes 4 s at 20k rows.

Mixed-type algorithms (``kprototypes``, ``gower_agglomerative``, ``gower_hdbscan``) take one
float matrix: the ``n_numeric`` standardised numeric columns first, then categorical codes
(integers, ``-1`` = missing) as produced by :func:`segmentation.clustering.gower.encode_categories`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN, AgglomerativeClustering, KMeans, MiniBatchKMeans, SpectralClustering
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

from ..errors import SegmentationError
from .gower import gower_distances, numeric_ranges

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
MICRO_CLUSTERS = 300
AGGLOMERATIVE_ROWS = 5_000
SPECTRAL_ROWS = 5_000
DENSITY_ROWS = 20_000
GOWER_ROWS = 2_000
KPROTOTYPES_ROWS = 5_000
EXEMPLARS_PER_SEGMENT = 25
KNEE_SAMPLE = 5_000
KNEE_CORE_SHARE = 0.98


def make_estimator(
    name: str, k: int | None = None, *, random_state: int = 0, n_numeric: int | None = None
) -> BaseEstimator:
    """An unfitted estimator for algorithm ``name`` with ``k`` segments (ignored by density methods)."""
    if name not in ALGORITHMS:
        raise SegmentationError(f"unknown algorithm '{name}'; choose from {', '.join(ALGORITHMS)}")
    if name not in FINDS_K and (k is None or k < 1):
        raise SegmentationError(f"algorithm '{name}' needs a number of segments k ≥ 1")
    if name in MIXED and n_numeric is None:
        raise SegmentationError(f"algorithm '{name}' needs n_numeric, the count of numeric columns")
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
    if name == "dbscan":
        return KneeDBSCAN(random_state=random_state)
    if name == "hdbscan":
        return HDBSCANClusterer(random_state=random_state)
    if name == "kprototypes":
        return KPrototypesClusterer(n_clusters=k, n_numeric=n_numeric, random_state=random_state)
    if name == "gower_agglomerative":
        return GowerClusterer(
            n_clusters=k, n_numeric=n_numeric, method="agglomerative", random_state=random_state
        )
    return GowerClusterer(n_numeric=n_numeric, method="hdbscan", random_state=random_state)


def _sample(n: int, size: int, random_state: int) -> np.ndarray | None:
    """Sorted row indices of a seeded sample, or None when every row fits."""
    if n <= size:
        return None
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def _sampled_note(n: int, size: int, how: str) -> str:
    return f"fitted on a random sample of {size:,} of {n:,} customers; the rest {how}"


class ExemplarClusterer(ClusterMixin, BaseEstimator):
    """Base for clusterers that assign rows to the label of their nearest exemplar.

    Subclasses implement ``_fit_rows(X) -> labels`` on at most ``_max_rows`` rows and may set
    ``noise_radius_``: a row farther than it from every exemplar is noise (``-1``).
    """

    _max_rows = DENSITY_ROWS

    def fit(self, X: np.ndarray, y: Any = None) -> ExemplarClusterer:
        X = np.asarray(X, dtype=float)
        n = len(X)
        index = _sample(n, self._max_rows, self.random_state)
        rows = X if index is None else X[index]
        self.noise_radius_: float | None = None
        self.note_ = ""
        self.exemplars_: np.ndarray | None = None
        fitted = self._fit_rows(rows)
        if self.exemplars_ is None:
            self.exemplars_, self.exemplar_labels_ = rows, fitted
        if index is None:
            self.labels_ = fitted
        else:
            self.labels_ = self.predict(X)
            self.labels_[index] = fitted
            self.note_ = _sampled_note(
                n, len(index), "assigned to the segment of the nearest sampled customer"
            )
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        search = NearestNeighbors(n_neighbors=1).fit(self.exemplars_)
        distance, nearest = search.kneighbors(X)
        labels = np.asarray(self.exemplar_labels_)[nearest[:, 0]].astype(np.int64)
        if self.noise_radius_ is not None:
            labels[distance[:, 0] > self.noise_radius_] = -1
        return labels

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Agglomerative(ExemplarClusterer):
    """Ward or average linkage with the merge tree kept (``children_``, ``distances_``).

    Beyond ``AGGLOMERATIVE_ROWS`` rows it first summarises the data by ``MICRO_CLUSTERS``
    MiniBatch K-Means centres and clusters the centres (a two-step scheme, as BIRCH does).
    """

    def __init__(self, n_clusters: int = 2, *, linkage: str = "ward", random_state: int = 0) -> None:
        self.n_clusters = n_clusters
        self.linkage = linkage
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> Agglomerative:
        X = np.asarray(X, dtype=float)
        self.noise_radius_ = None
        self.note_ = ""
        self.micro_clusters_ = len(X) > AGGLOMERATIVE_ROWS
        if not self.micro_clusters_:
            self.labels_ = self._fit_rows(X)
            self.exemplars_, self.exemplar_labels_ = X, self.labels_
            return self
        micro = MiniBatchKMeans(
            n_clusters=MICRO_CLUSTERS, n_init=1, batch_size=4096, random_state=self.random_state
        ).fit(X)
        self.exemplars_ = micro.cluster_centers_
        self.exemplar_labels_ = self._fit_rows(self.exemplars_)
        self.labels_ = self.exemplar_labels_[micro.labels_].astype(np.int64)
        self.note_ = (
            f"two-step: {len(X):,} customers summarised by {MICRO_CLUSTERS} MiniBatch K-Means "
            f"micro-clusters, then {self.linkage} linkage on their centres"
        )
        return self

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        model = AgglomerativeClustering(
            n_clusters=self.n_clusters, linkage=self.linkage, compute_distances=True
        )
        model.fit(X)
        self.children_, self.distances_ = model.children_, model.distances_
        return model.labels_.astype(np.int64)


class Spectral(ExemplarClusterer):
    """Spectral clustering on a nearest-neighbours affinity graph (finds moons and rings)."""

    _max_rows = SPECTRAL_ROWS

    def __init__(self, n_clusters: int = 2, *, n_neighbors: int = 10, random_state: int = 0) -> None:
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.random_state = random_state

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        model = SpectralClustering(
            n_clusters=self.n_clusters,
            affinity="nearest_neighbors",
            n_neighbors=min(self.n_neighbors, len(X) - 1),
            assign_labels="cluster_qr",
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # Well-separated segments make a disconnected graph: exactly the easy case, not an error.
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            return model.fit(X).labels_.astype(np.int64)


def knee_eps(X: np.ndarray, min_samples: int, random_state: int = 0) -> float:
    """DBSCAN's radius from the knee of the sorted k-distance curve (Ester et al.'s heuristic).

    The knee is the point of the ascending curve farthest below the chord joining its ends,
    never below the curve's ``KNEE_CORE_SHARE`` quantile, computed on a seeded sample of at most
    ``KNEE_SAMPLE`` rows.
    """
    index = _sample(len(X), KNEE_SAMPLE, random_state)
    rows = X if index is None else X[index]
    k = min(min_samples, len(rows) - 1)
    distances = NearestNeighbors(n_neighbors=k + 1).fit(rows).kneighbors(rows)[0][:, -1]
    curve = np.sort(distances)
    if curve[-1] <= curve[0]:
        return float(curve[-1]) or 1e-9
    x = np.linspace(0.0, 1.0, len(curve))
    y = (curve - curve[0]) / (curve[-1] - curve[0])
    knee = curve[int(np.argmax(x - y))]
    # On a smooth curve (no density gap, as on moons or rings) the chord knee lands mid-curve and
    # shreds clusters into noise. A row whose k-distance exceeds eps can never be a core point,
    # so the floor keeps at least 98% of customers eligible to be core points.
    return float(max(knee, np.quantile(curve, KNEE_CORE_SHARE))) or 1e-9


class KneeDBSCAN(ExemplarClusterer):
    """DBSCAN with ``eps`` from the k-distance knee; new rows join the nearest core point within eps."""

    def __init__(
        self, *, min_samples: int | None = None, eps: float | None = None, random_state: int = 0
    ) -> None:
        self.min_samples = min_samples
        self.eps = eps
        self.random_state = random_state

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        min_samples = self.min_samples or max(4, 2 * X.shape[1])
        self.eps_ = self.eps or knee_eps(X, min_samples, self.random_state)
        model = DBSCAN(eps=self.eps_, min_samples=min_samples).fit(X)
        labels = model.labels_.astype(np.int64)
        core = model.core_sample_indices_
        if len(core):
            self.exemplars_, self.exemplar_labels_ = X[core], labels[core]
        else:
            self.exemplars_, self.exemplar_labels_ = X[:1], np.array([-1])
        self.noise_radius_ = self.eps_
        return labels


def default_min_cluster_size(n: int) -> int:
    """A segment smaller than 1% of customers is too small to act on; never below 5 rows."""
    return max(5, round(0.01 * n))


class HDBSCANClusterer(ExemplarClusterer):
    """HDBSCAN from the ``hdbscan`` package (measured faster than scikit-learn's; bench/RESULTS.md)."""

    def __init__(
        self, *, min_cluster_size: int | None = None, min_samples: int | None = 10, random_state: int = 0
    ) -> None:
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.random_state = random_state

    def _fit_rows(self, X: np.ndarray) -> np.ndarray:
        import hdbscan  # imported here: a heavy import only density runs pay for

        size = self.min_cluster_size or default_min_cluster_size(len(X))
        samples = min(self.min_samples or size, len(X) - 1)
        # One core: joblib's worker pool for core distances costs more than it saves at 20k rows
        # and fights the sweep's other work for the machine's two cores.
        model = hdbscan.HDBSCAN(
            min_cluster_size=max(2, size), min_samples=max(1, samples), core_dist_n_jobs=1
        )
        labels = model.fit(X).labels_.astype(np.int64)
        self.probabilities_ = model.probabilities_
        return labels


class _MixedBase(ClusterMixin, BaseEstimator):
    """Shared plumbing for estimators over [numeric | categorical codes] matrices."""

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=float)
        return X[:, : self.n_numeric], X[:, self.n_numeric :]


class KPrototypesClusterer(_MixedBase):
    """K-Prototypes (Huang 1998, ``kmodes``): means for numbers, modes for categories.

    Initialised with Cao et al.'s density-based method, which is deterministic, so one start suffices.
    """

    def __init__(
        self, n_clusters: int = 2, *, n_numeric: int = 0, n_init: int = 1, random_state: int = 0
    ) -> None:
        self.n_clusters = n_clusters
        self.n_numeric = n_numeric
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> KPrototypesClusterer:
        from kmodes.kprototypes import KPrototypes

        X = np.asarray(X, dtype=float)
        categorical = list(range(self.n_numeric, X.shape[1]))
        if not categorical:
            raise SegmentationError("K-Prototypes needs at least one categorical column")
        index = _sample(len(X), KPROTOTYPES_ROWS, self.random_state)
        rows = X if index is None else X[index]
        self.model_ = KPrototypes(
            n_clusters=self.n_clusters,
            init="Cao",
            n_init=self.n_init,
            random_state=self.random_state,
            n_jobs=1,
        ).fit(rows, categorical=categorical)
        self.note_ = ""
        if index is None:
            self.labels_ = self.model_.labels_.astype(np.int64)
        else:
            self.labels_ = self.predict(X)
            self.labels_[index] = self.model_.labels_
            self.note_ = _sampled_note(len(X), len(index), "assigned to their nearest prototype")
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        categorical = list(range(self.n_numeric, X.shape[1]))
        return self.model_.predict(X, categorical=categorical).astype(np.int64)


class GowerClusterer(_MixedBase):
    """Average-linkage agglomerative or HDBSCAN on the Gower distance matrix.

    The matrix is quadratic, so at most ``GOWER_ROWS`` customers are clustered; every customer
    (sampled or not) outside the fit is assigned to the segment of the nearest of up to
    ``EXEMPLARS_PER_SEGMENT`` exemplars per segment (the medoid and seeded random members).
    """

    def __init__(
        self, n_clusters: int = 2, *, n_numeric: int = 0, method: str = "agglomerative", random_state: int = 0
    ) -> None:
        self.n_clusters = n_clusters
        self.n_numeric = n_numeric
        self.method = method
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> GowerClusterer:
        X = np.asarray(X, dtype=float)
        numeric, categorical = self._split(X)
        self.ranges_ = numeric_ranges(numeric)
        index = _sample(len(X), GOWER_ROWS, self.random_state)
        rows = np.arange(len(X)) if index is None else index
        distances = gower_distances(numeric[rows], categorical[rows], ranges=self.ranges_)
        if self.method == "agglomerative":
            model = AgglomerativeClustering(
                n_clusters=self.n_clusters, metric="precomputed", linkage="average", compute_distances=True
            ).fit(distances)
            self.children_, self.distances_ = model.children_, model.distances_
        else:
            import hdbscan

            model = hdbscan.HDBSCAN(
                metric="precomputed",
                min_cluster_size=default_min_cluster_size(len(rows)),
                min_samples=min(10, len(rows) - 1),
                core_dist_n_jobs=1,
            ).fit(distances)
        fitted = model.labels_.astype(np.int64)
        self._keep_exemplars(X[rows], fitted, distances)
        self.note_ = ""
        if index is None:
            self.labels_ = fitted
        else:
            self.labels_ = self.predict(X)
            self.labels_[index] = fitted
            self.note_ = _sampled_note(len(X), len(index), "assigned to the nearest segment exemplar (Gower)")
        return self

    def _keep_exemplars(self, rows: np.ndarray, labels: np.ndarray, distances: np.ndarray) -> None:
        rng = np.random.default_rng(self.random_state)
        chosen = []
        for segment in np.unique(labels[labels >= 0]):
            members = np.flatnonzero(labels == segment)
            medoid = members[np.argmin(distances[np.ix_(members, members)].sum(axis=1))]
            others = rng.permutation(members[members != medoid])[: EXEMPLARS_PER_SEGMENT - 1]
            chosen.extend([medoid, *others])
        if not chosen:  # everything is noise: one exemplar that labels newcomers noise too
            self.exemplars_, self.exemplar_labels_ = rows[:1], np.array([-1])
            return
        chosen_index = np.array(sorted(chosen), dtype=int)
        self.exemplars_, self.exemplar_labels_ = rows[chosen_index], labels[chosen_index]

    def predict(self, X: np.ndarray) -> np.ndarray:
        numeric, categorical = self._split(X)
        ex_numeric, ex_categorical = self._split(self.exemplars_)
        labels = np.empty(len(X), dtype=np.int64)
        for start in range(0, len(X), 20_000):  # bounded memory: 20k x exemplars at a time
            stop = start + 20_000
            d = gower_distances(
                numeric[start:stop], categorical[start:stop], ex_numeric, ex_categorical, ranges=self.ranges_
            )
            labels[start:stop] = self.exemplar_labels_[np.argmin(d, axis=1)]
        return labels
