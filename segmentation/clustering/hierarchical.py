"""Ward or average-linkage agglomerative clustering that keeps its merge tree for the dendrogram.

Ward's cost grows quadratically (2.6 s at 10k rows, 45 s at 30k on two cores; see
/work/shared/PERFORMANCE.md), so beyond ``AGGLOMERATIVE_ROWS`` the rows are first summarised by
``MICRO_CLUSTERS`` MiniBatch K-Means centres and the centres are clustered.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering, MiniBatchKMeans

from .exemplars import ExemplarClusterer

MICRO_CLUSTERS = 300
AGGLOMERATIVE_ROWS = 5_000


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
        X = self._fit_input(X)
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
