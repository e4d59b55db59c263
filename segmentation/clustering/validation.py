"""Internal validity indices for a clustering: silhouette, Davies–Bouldin, Calinski–Harabasz, DBCV.

Every function ignores density noise (label ``-1``): noise is not a segment, and the sweep
reports its share separately. Where scikit-learn has the index, the value equals scikit-learn's
on the same (non-noise) rows; the tests check it.

Stability (bootstrap, consensus) is in :mod:`segmentation.clustering.stability`; association with outcome
columns in :mod:`segmentation.explain.outcomes`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.special import logsumexp
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.metrics.pairwise import euclidean_distances

from .sampling import sample_rows

# The full silhouette is quadratic in rows (53 s at 100k on two cores); on a 10k sample it
# differs by about 0.002, far below the gaps that decide between candidates.
SILHOUETTE_SAMPLE = 10_000
# DBCV needs all pairwise distances of the clustered rows: 2,000 rows keep it under a second.
DBCV_SAMPLE = 2_000
_CHUNK = 1_000


def _clusters(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels[labels >= 0])


def silhouettes(
    X: np.ndarray,
    label_sets: Sequence[np.ndarray],
    *,
    sample_size: int = SILHOUETTE_SAMPLE,
    random_state: int = 0,
) -> list[float | None]:
    """Mean silhouette of each labelling of ``X``, on one shared seeded sample of rows.

    The pairwise distances of the sample are computed once, in chunks, for all labellings
    together (one matrix product per chunk), so scoring twenty candidates costs little more than
    one. Equal to ``sklearn.metrics.silhouette_score`` on the sample's non-noise rows; ``None``
    when a labelling has fewer than two segments there.
    """
    X = np.asarray(X, dtype=float)
    rows = sample_rows(len(X), sample_size, random_state)
    points = X[rows]
    blocks, columns = [], []
    for labels in label_sets:
        sampled = np.asarray(labels)[rows]
        clusters = _clusters(sampled)
        block = (sampled[:, None] == clusters[None, :]).astype(float)
        blocks.append((sampled, clusters))
        columns.append(block)
    indicator = np.hstack(columns) if columns else np.zeros((len(rows), 0))
    sums = np.empty_like(indicator)
    for start in range(0, len(points), _CHUNK):
        chunk = euclidean_distances(points[start : start + _CHUNK], points)
        # scikit-learn zeroes the self-distance exactly; so must we, to agree to the last digits.
        index = np.arange(chunk.shape[0])
        chunk[index, start + index] = 0.0
        sums[start : start + _CHUNK] = chunk @ indicator
    results: list[float | None] = []
    offset = 0
    for sampled, clusters in blocks:
        k = len(clusters)
        block_sums = sums[:, offset : offset + k]
        offset += k
        valid = sampled >= 0
        if k < 2 or valid.sum() < 3:
            results.append(None)
            continue
        sizes = np.array([(sampled == c).sum() for c in clusters], dtype=float)
        own = np.searchsorted(clusters, sampled[valid])
        per_cluster = block_sums[valid]
        with np.errstate(invalid="ignore", divide="ignore"):
            intra = per_cluster[np.arange(len(own)), own] / (sizes[own] - 1)
            mean_to = per_cluster / sizes[None, :]
            mean_to[np.arange(len(own)), own] = np.inf
            inter = mean_to.min(axis=1)
            score = np.nan_to_num((inter - intra) / np.maximum(intra, inter))
        results.append(float(score.mean()))
    return results


def silhouette(
    X: np.ndarray, labels: np.ndarray, *, sample_size: int = SILHOUETTE_SAMPLE, random_state: int = 0
) -> float | None:
    """Mean silhouette of one labelling (see :func:`silhouettes`)."""
    return silhouettes(X, [labels], sample_size=sample_size, random_state=random_state)[0]


def davies_bouldin(X: np.ndarray, labels: np.ndarray) -> float | None:
    """scikit-learn's Davies–Bouldin index on the non-noise rows (lower is better)."""
    valid = labels >= 0
    if len(_clusters(labels)) < 2:
        return None
    return float(davies_bouldin_score(X[valid], labels[valid]))


def calinski_harabasz(X: np.ndarray, labels: np.ndarray) -> float | None:
    """scikit-learn's Calinski–Harabasz index on the non-noise rows (higher is better)."""
    valid = labels >= 0
    if len(_clusters(labels)) < 2 or len(_clusters(labels)) >= valid.sum():
        return None
    return float(calinski_harabasz_score(X[valid], labels[valid]))


def noise_share(labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(labels) < 0)) if len(labels) else 0.0


def dbcv(
    X: np.ndarray, labels: np.ndarray, *, sample_size: int = DBCV_SAMPLE, random_state: int = 0
) -> float | None:
    """Density-Based Clustering Validation (Moulavi et al., SDM 2014), in [-1, 1], higher is better.

    Per cluster: the all-points core distance of each member,
    ``core(x) = (sum_{y != x} (1/d(x,y))^D / (n_i - 1))^(-1/D)`` with D the dimension; the
    minimum spanning tree of the mutual reachability distances ``max(core(x), core(y), d(x,y))``;
    its density sparseness DSC = the largest MST edge between internal nodes (degree > 1). The
    density separation DSPC of two clusters is the smallest mutual reachability distance between
    their internal nodes. A cluster's validity is ``(min DSPC - DSC) / max(min DSPC, DSC)`` and
    DBCV is their average weighted by cluster size over all rows, noise included, so labelling
    rows noise lowers the index. Computed on a seeded sample of ``sample_size`` rows; ``None``
    with fewer than two clusters.
    """
    X = np.asarray(X, dtype=float)
    rows = sample_rows(len(X), sample_size, random_state)
    points, labels = X[rows], np.asarray(labels)[rows]
    clusters = _clusters(labels)
    if len(clusters) < 2:
        return None
    dim = points.shape[1]
    distances = np.maximum(euclidean_distances(points), 1e-12)
    np.fill_diagonal(distances, 0.0)
    core = np.full(len(points), np.inf)
    internal: dict[int, np.ndarray] = {}
    sparseness: dict[int, float] = {}
    for c in clusters:
        members = np.flatnonzero(labels == c)
        if len(members) < 2:
            continue
        within = distances[np.ix_(members, members)]
        off = ~np.eye(len(members), dtype=bool)
        log_terms = np.where(off, -dim * np.log(np.where(off, within, 1.0)), -np.inf)
        # In log space: (1/d)^D overflows for small distances in high dimension.
        log_mean = logsumexp(log_terms, axis=1) - np.log(len(members) - 1)
        core[members] = np.exp(-log_mean / dim)
        reach = np.maximum(within, np.maximum(core[members][:, None], core[members][None, :]))
        np.fill_diagonal(reach, 0.0)
        tree = minimum_spanning_tree(reach).tocoo()
        degree = np.bincount(np.concatenate([tree.row, tree.col]), minlength=len(members))
        inner = degree > 1
        edges = inner[tree.row] & inner[tree.col]
        if tree.data.size == 0:
            # Every member at one point (identical customers): the tree has only zero-length
            # edges, which a sparse graph does not keep; the cluster is as dense as can be.
            sparseness[c] = 0.0
        else:
            sparseness[c] = float(tree.data[edges].max() if edges.any() else tree.data.max())
        internal[c] = members[inner] if inner.any() else members
    validity = []
    for c in clusters:
        size = int((labels == c).sum())
        if c not in sparseness:
            validity.append((size, -1.0))
            continue
        separation = np.inf
        for other in clusters:
            if other == c or other not in internal:
                continue
            a, b = internal[c], internal[other]
            reach = np.maximum(distances[np.ix_(a, b)], np.maximum(core[a][:, None], core[b][None, :]))
            separation = min(separation, float(reach.min()))
        if not np.isfinite(separation):
            validity.append((size, -1.0))
            continue
        dsc = sparseness[c]
        validity.append((size, (separation - dsc) / max(separation, dsc)))
    return float(sum(size * v for size, v in validity) / len(labels))
