"""Spectral clustering on a nearest-neighbours graph, for segments shaped like moons and rings.

Spectral clustering took 1.6 s at 10k rows on two cores (/work/shared/PERFORMANCE.md), so it
fits on at most ``SPECTRAL_ROWS`` sampled customers and labels the rest by the nearest of them.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import SpectralClustering

from .exemplars import ExemplarClusterer

SPECTRAL_ROWS = 5_000


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
