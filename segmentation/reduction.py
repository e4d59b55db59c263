"""Reduction and distance as one linear projection, and 2-D exploration maps.

The clustering space is ``y = (z - mean) @ components.T`` where ``z`` are the standardised
features: a :class:`~.model_assign.Projection` the model carries, so ``predict``, the API and the
SQL scorers compute exactly the space the clustering saw.

- ``reduction="pca"`` keeps the fewest principal components explaining ``PCA_VARIANCE`` of
  the variance.
- ``distance="mahalanobis"`` whitens by the inverse Cholesky factor of the covariance: with
  ``cov = L Lᵀ`` and ``W = L⁻¹``, ``|W (a − b)|² = (a − b)ᵀ cov⁻¹ (a − b)``, so Euclidean
  distance in the projected space is the Mahalanobis distance. After PCA the whitening is
  composed with the components into one matrix.
- ``distance="cosine"`` (row L2 normalisation) is refused by the spec: it is not linear, and
  the SQL scorers have no portable exact square root.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import SegmentationError
from .model_assign import Projection

PCA_VARIANCE = 0.9
MAP_ROWS = 2_000
# Barnes–Hut t-SNE on 2,000 rows took 30+ s on the shared 2-core machine; on 1,000 rows with the
# fewest iterations scikit-learn allows it costs a few seconds and still shows the segments.
TSNE_ROWS = 1_000
TSNE_ITERATIONS = 250


def clustering_projection(
    z: np.ndarray, *, reduction: str = "none", distance: str = "euclidean", random_state: int = 0
) -> Projection | None:
    """The projection from standardised features to the clustering space, or None (identity)."""
    if reduction not in ("none", "pca", "umap"):
        raise SegmentationError(f"reduction '{reduction}' is not available: use 'none', 'pca' or 'umap'")
    if distance not in ("euclidean", "mahalanobis"):
        raise SegmentationError(f"distance '{distance}' is not available: use 'euclidean' or 'mahalanobis'")
    projection = (
        Projection.fit(z, variance=PCA_VARIANCE, random_state=random_state) if reduction == "pca" else None
    )
    if distance == "euclidean":
        return projection
    if projection is None:
        mean = z.mean(axis=0)
        basis = np.eye(z.shape[1])
    else:
        mean = np.asarray(projection.mean)
        basis = np.asarray(projection.components)
    whitening = whitening_matrix((z - mean) @ basis.T)
    return Projection(
        mean=tuple(map(float, mean)),
        components=tuple(tuple(map(float, row)) for row in whitening @ basis),
        explained_variance_ratio=() if projection is None else projection.explained_variance_ratio,
    )


def whitening_matrix(centred: np.ndarray) -> np.ndarray:
    """``L⁻¹`` for the sample covariance ``L Lᵀ`` of the (centred) rows."""
    cov = np.atleast_2d(np.cov(centred, rowvar=False))
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as error:
        raise SegmentationError(
            "the Mahalanobis distance needs an invertible covariance, but some features are exact "
            "linear combinations of others: remove one of them or use 'reduction': 'pca'"
        ) from error
    return np.linalg.solve(factor, np.eye(len(cov)))


def exploration_maps(
    z: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    *,
    random_state: int = 0,
    rows: int = MAP_ROWS,
    tsne: bool = True,
    umap: bool = False,
) -> dict[str, Any]:
    """2-D maps of a sample of at most ``rows`` customers, JSON-safe, for the portal.

    ``{"sample_size", "customer_ids", "segments", "pca": {"x", "y", "explained_variance_ratio"},
    "tsne": {"x", "y", "perplexity", "rows"}}``: t-SNE maps the first ``rows`` (at most
    ``TSNE_ROWS``) customers of the same sample, in the same order; it is null when the sample
    is too small for it or ``tsne`` is false (t-SNE costs ~6 s of CPU on 1,000 rows).
    With ``umap``, ``"umap": {"x", "y", "n_neighbors", "rows"}`` maps the same way with UMAP.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    n = len(z)
    pick = np.sort(np.random.default_rng(random_state).choice(n, size=min(n, rows), replace=False))
    sample = z[pick]
    width = min(2, sample.shape[1])
    pca = PCA(n_components=width, svd_solver="full", random_state=random_state).fit(sample)
    flat = pca.transform(sample)
    flat = flat if width == 2 else np.column_stack([flat[:, 0], np.zeros(len(flat))])
    maps: dict[str, Any] = {
        "sample_size": len(pick),
        "customer_ids": [str(v) for v in ids[pick]],
        "segments": [int(v) for v in labels[pick]],
        "pca": {
            "x": _rounded(flat[:, 0]),
            "y": _rounded(flat[:, 1]),
            "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        },
        "tsne": None,
        "umap": None,
    }
    tsne_rows = min(len(pick), TSNE_ROWS)
    if tsne and tsne_rows > 10:
        perplexity = float(min(30.0, (tsne_rows - 1) / 3))
        embedded = TSNE(
            n_components=2,
            perplexity=perplexity,
            init="pca",
            random_state=random_state,
            max_iter=TSNE_ITERATIONS,
        ).fit_transform(sample[:tsne_rows])
        # t-SNE maps the first ``tsne_rows`` customers of the (random) sample
        maps["tsne"] = {
            "x": _rounded(embedded[:, 0]),
            "y": _rounded(embedded[:, 1]),
            "perplexity": perplexity,
            "rows": tsne_rows,
        }
    if umap and tsne_rows > 10:
        maps["umap"] = _umap_map(sample[:tsne_rows], random_state=random_state)
    return maps


def _umap_map(sample: np.ndarray, *, random_state: int) -> dict[str, Any]:
    """UMAP of the sample, for exploration only.

    UMAP is not a linear map, so no SQL scorer could reproduce it: the segments are never found
    in this space, only drawn in it. Its numba kernels compile once per machine and are cached
    under NUMBA_CACHE_DIR (the platform points it at var/numba).
    """
    from umap import UMAP  # heavy: numba compiles on first use

    neighbours = int(min(15, len(sample) - 1))
    # A fixed seed makes UMAP single-threaded anyway; saying so keeps it from warning.
    embedded = UMAP(
        n_components=2, n_neighbors=neighbours, random_state=random_state, n_jobs=1
    ).fit_transform(sample)
    return {
        "x": _rounded(embedded[:, 0]),
        "y": _rounded(embedded[:, 1]),
        "n_neighbors": neighbours,
        "rows": len(sample),
    }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]
