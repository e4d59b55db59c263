"""Density clustering that finds the number of segments itself: DBSCAN and HDBSCAN.

Both label customers in sparse regions noise (``-1``). They fit on at most ``DENSITY_ROWS``
sampled customers (HDBSCAN took 17–20 s at 100k rows on two cores, /work/shared/PERFORMANCE.md)
and label the rest by the nearest fitted customer, DBSCAN within its radius ``eps``.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors

from .exemplars import ExemplarClusterer
from .sampling import subsample

DENSITY_ROWS = 20_000
KNEE_SAMPLE = 5_000
KNEE_CORE_SHARE = 0.98


def knee_eps(X: np.ndarray, min_samples: int, random_state: int = 0) -> float:
    """DBSCAN's radius from the knee of the sorted k-distance curve (Ester et al.'s heuristic).

    The knee is the point of the ascending curve farthest below the chord joining its ends,
    never below the curve's ``KNEE_CORE_SHARE`` quantile, computed on a seeded sample of at most
    ``KNEE_SAMPLE`` rows.
    """
    index = subsample(len(X), KNEE_SAMPLE, random_state)
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

    _max_rows = DENSITY_ROWS

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

    _max_rows = DENSITY_ROWS

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
        # hdbscan's Cython writes into its input's buffer; a read-only array (a memory-mapped
        # table) is copied, a writable one used as is.
        labels = model.fit(np.require(X, requirements="W")).labels_.astype(np.int64)
        self.probabilities_ = model.probabilities_
        return labels
