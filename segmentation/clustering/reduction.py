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
- ``distance="cosine"`` measures the angle between customers seen from the zero customer, not
  from the average one: the numeric features are divided by their spread but not centred
  (:func:`uncentred`), an asked-for PCA is uncentred too, and every row of the clustering space
  is then scaled to unit length (:func:`unit_rows`, carried by the model as
  ``normalisation="l2"``). Euclidean distance between unit rows is ``sqrt(2 - 2 cos)``, so every
  algorithm and assigner works unchanged in that space. (Centring first would make a customer
  who buys little of everything point the same way as every other small customer, whatever
  their mix.) The normalisation is not linear, so it is a step of its own after the projection;
  its arithmetic, written below, needs one square root, correctly rounded in NumPy and in every
  engine the SQL scorers target.

Row normalisation, per row ``y`` of the clustering space, in this order:

1. ``y'[j] = 0 if |y[j]| < UNIT_FLUSH else y[j]`` with ``UNIT_FLUSH = 2**-500``, so no square
   or quotient below can underflow (squares >= 2**-1000, a non-zero length >= 2**-500);
2. ``s = sum_j y'[j] * y'[j]``, added left to right from ``j = 0``;
3. ``n = sqrt(s)``;
4. ``u[j] = 0 if n == 0 else y'[j] / n``: a row that is all zero stays all zero.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import SegmentationError
from ..model.assigners import Projection
from ..model.preprocess import Preprocessor

PCA_VARIANCE = 0.9
MAP_ROWS = 2_000
# Barnes–Hut t-SNE on 2,000 rows took 30+ s on the shared 2-core machine; on 1,000 rows with the
# fewest iterations scikit-learn allows it costs a few seconds and still shows the segments.
TSNE_ROWS = 1_000
TSNE_ITERATIONS = 250
DISTANCES = ("euclidean", "mahalanobis", "cosine")
# Below this a coordinate counts as zero before normalising: its square would be subnormal or
# zero, and PostgreSQL raises an error when a product of non-zero doubles underflows.
UNIT_FLUSH = 2.0**-500


def unit_rows(y: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 length, with the exact arithmetic of the module docstring.

    Computed column by column in index order (not with a BLAS norm), so the SQL scorers, which
    add the squares in the same order, reach the very same doubles.
    """
    flushed = np.where(np.abs(y) < UNIT_FLUSH, 0.0, y)
    total = np.zeros(len(flushed))  # 0 + the first square is that square exactly
    for j in range(flushed.shape[1]):
        total = total + flushed[:, j] * flushed[:, j]
    length = np.sqrt(total)[:, None]
    # Dividing a zero row by 1 instead of 0 avoids NaN; its result is replaced by 0 anyway.
    divided = flushed / np.where(length == 0.0, 1.0, length)
    return np.where(length == 0.0, 0.0, divided)


def uncentred(preprocessor: Preprocessor) -> Preprocessor:
    """The same preprocessing with every numeric feature divided by its spread but not centred.

    For the cosine distance: the angle is then measured from the customer with zero in every
    feature, so two customers with the same mix and different volumes point the same way.
    """
    numeric = tuple(replace(column, center=0.0) for column in preprocessor.numeric)
    return replace(preprocessor, numeric=numeric)


def clustering_projection(
    z: np.ndarray, *, reduction: str = "none", distance: str = "euclidean", random_state: int = 0
) -> Projection | None:
    """The projection from standardised features to the clustering space, or None (identity).

    For ``distance="cosine"`` the projection (PCA, or none) is followed by :func:`unit_rows`,
    which the caller applies; its PCA is uncentred, as the features are (see the module
    docstring).
    """
    if reduction not in ("none", "pca", "umap"):
        raise SegmentationError(f"reduction '{reduction}' is not available: use 'none', 'pca' or 'umap'")
    if distance not in DISTANCES:
        raise SegmentationError(
            f"distance '{distance}' is not available: use {', '.join(map(repr, DISTANCES))}"
        )
    if distance == "cosine":
        return uncentred_pca(z, variance=PCA_VARIANCE) if reduction == "pca" else None
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


def uncentred_pca(z: np.ndarray, *, variance: float) -> Projection:
    """Principal directions through the origin (an SVD of the rows as they are, not centred).

    Rows seen from the origin keep their angles best in the leading singular directions, the
    first of which mostly points at the average customer. So the count is not a share of the
    sum of squares (the first direction alone would often pass 90%): it is the fewest
    directions whose residual is at most ``1 - variance`` of the rows' centred spread, the
    differences between customers that centred PCA keeps ``variance`` of.
    ``explained_variance_ratio`` reports each kept direction's share of the sum of squares.
    Signs follow scikit-learn's convention (largest loading positive).
    """
    _, singular, directions = np.linalg.svd(z, full_matrices=False)
    energy = singular**2
    residual = np.append(np.cumsum(energy[::-1])[::-1][1:], 0.0)  # left after keeping 1, 2, ...
    spread = float(((z - z.mean(axis=0)) ** 2).sum())
    keep = int(np.argmax(residual <= (1.0 - variance) * spread)) + 1
    directions = directions[:keep]
    largest = np.argmax(np.abs(directions), axis=1)
    directions = directions * np.sign(directions[np.arange(keep), largest])[:, None]
    return Projection(
        mean=(0.0,) * z.shape[1],
        components=tuple(tuple(map(float, row)) for row in directions),
        explained_variance_ratio=tuple(map(float, energy[:keep] / energy.sum())),
    )


# A covariance whose smallest eigenvalue is below this share of its largest is singular up to
# rounding: Cholesky may still succeed on it (it did on one machine and not another), and the
# whitening would then blow rounding noise up into a direction of its own.
SINGULAR_RATIO = 1e-10


def whitening_matrix(centred: np.ndarray) -> np.ndarray:
    """``L⁻¹`` for the sample covariance ``L Lᵀ`` of the (centred) rows."""
    cov = np.atleast_2d(np.cov(centred, rowvar=False))
    eigenvalues = np.linalg.eigvalsh(cov)
    try:
        if not eigenvalues[0] > SINGULAR_RATIO * eigenvalues[-1]:
            raise np.linalg.LinAlgError("singular covariance")
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
