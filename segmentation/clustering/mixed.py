"""Clusterers for tables that mix numbers and categories: K-Prototypes and Gower-distance clustering.

They take one float matrix: the ``n_numeric`` standardised numeric columns first, then
categorical codes (integers, ``-1`` = missing) as :func:`segmentation.clustering.gower.encode_categories`
produces them. ``n_numeric=None`` (the default) reads every column as a number, so that
scikit-learn's estimator checks, which know nothing of categories, exercise them on numbers. A 5k-row Gower matrix took 9.5 s and K-Prototypes 4 s at 20k rows on two cores
(/work/shared/PERFORMANCE.md), hence the row limits below.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans

from .contract import EngineClusterer
from .density import default_min_cluster_size
from .exemplars import sampled_note
from .gower import gower_distances, numeric_ranges
from .sampling import subsample

GOWER_ROWS = 2_000
KPROTOTYPES_ROWS = 5_000
EXEMPLARS_PER_SEGMENT = 25


class _MixedBase(EngineClusterer):
    """Shared plumbing for estimators over [numeric | categorical codes] matrices."""

    n_numeric: int | None

    def _numeric_width(self, X: np.ndarray) -> int:
        return X.shape[1] if self.n_numeric is None else self.n_numeric

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        width = self._numeric_width(X)
        return X[:, :width], X[:, width:]


class KPrototypesClusterer(_MixedBase):
    """K-Prototypes (Huang 1998, ``kmodes``): means for numbers, modes for categories.

    Initialised with Cao et al.'s density-based method, which is deterministic, so one start suffices.
    Without a categorical column its cost is K-Means' cost, a case ``kmodes`` refuses, so it
    fits scikit-learn's K-Means (``model_`` is then a ``KMeans``); the sweep never gets there,
    as it offers K-Prototypes only for tables with categories.
    """

    def __init__(
        self, n_clusters: int = 2, *, n_numeric: int | None = None, n_init: int = 1, random_state: int = 0
    ) -> None:
        self.n_clusters = n_clusters
        self.n_numeric = n_numeric
        self.n_init = n_init
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> KPrototypesClusterer:
        from kmodes.kprototypes import KPrototypes

        X = self._fit_input(X)
        categorical = self._categorical_columns(X)
        index = subsample(len(X), KPROTOTYPES_ROWS, self.random_state)
        rows = X if index is None else X[index]
        if categorical:
            self.model_ = KPrototypes(
                n_clusters=self.n_clusters,
                init="Cao",
                n_init=self.n_init,
                random_state=self.random_state,
                n_jobs=1,
            ).fit(rows, categorical=categorical)
        else:
            self.model_ = KMeans(
                n_clusters=self.n_clusters, n_init=self.n_init, random_state=self.random_state
            ).fit(rows)
        self.note_ = ""
        if index is None:
            self.labels_ = self.model_.labels_.astype(np.int64)
        else:
            self.labels_ = self.predict(X)
            self.labels_[index] = self.model_.labels_
            self.note_ = sampled_note(len(X), len(index), "assigned to their nearest prototype")
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        X = self._predict_input(X)
        categorical = self._categorical_columns(X)
        if not categorical:
            return self.model_.predict(X).astype(np.int64)
        return self.model_.predict(X, categorical=categorical).astype(np.int64)

    def _categorical_columns(self, X: np.ndarray) -> list[int]:
        return list(range(self._numeric_width(X), X.shape[1]))


class GowerClusterer(_MixedBase):
    """Average-linkage agglomerative or HDBSCAN on the Gower distance matrix.

    The matrix is quadratic, so at most ``GOWER_ROWS`` customers are clustered; every customer
    (sampled or not) outside the fit is assigned to the segment of the nearest of up to
    ``EXEMPLARS_PER_SEGMENT`` exemplars per segment (the medoid and seeded random members).
    A missing number (NaN) drops out of a pair's mean, as Gower defined it, so NaN is accepted.
    """

    _handles_missing = True

    def __init__(
        self,
        n_clusters: int = 2,
        *,
        n_numeric: int | None = None,
        method: str = "agglomerative",
        random_state: int = 0,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_numeric = n_numeric
        self.method = method
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> GowerClusterer:
        X = self._fit_input(X)
        numeric, categorical = self._split(X)
        self.ranges_ = numeric_ranges(numeric)
        index = subsample(len(X), GOWER_ROWS, self.random_state)
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
            self.note_ = sampled_note(len(X), len(index), "assigned to the nearest segment exemplar (Gower)")
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
        X = self._predict_input(X)
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
