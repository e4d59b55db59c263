"""Projection and assignment rules of a :class:`~segmentation.model.artefact.SegmentationModel`.

Constructors the pipeline calls:

* ``Projection.fit(X, variance=0.9)`` — PCA on the feature matrix; keeps the fewest
  components whose explained variance reaches ``variance`` (``Projection.from_sklearn(pca)``
  wraps a fitted ``sklearn.decomposition.PCA``);
* ``NearestExemplars.from_labels(X, labels, exemplars_per_segment=1, noise_radius=None)`` —
  exemplars in the (projected) space: the mean of each segment, or with more than one per
  segment, K-Means centres within it; labels ``-1`` (noise) are ignored. K-Means is the case of
  one exemplar per segment; for DBSCAN/HDBSCAN give ``noise_radius`` (one value or one per
  segment) so points farther than it from every exemplar of their nearest segment get ``-1``;
* ``GaussianMixtureAssigner.from_sklearn(fitted)`` — any ``covariance_type`` of a fitted
  ``sklearn.mixture.GaussianMixture``, stored as full upper-triangular precision Cholesky factors.

The arithmetic is fixed so SQL can repeat it exactly: every sum runs over its terms in index
order, starting from the first term, and each term is one IEEE operation per step:

* projection: ``y[k] = sum_j (x[j] - mean[j]) * components[k][j]``;
* exemplar distance: ``d[e] = sum_j (y[j] - exemplar[e][j]) ** 2`` (``metric="sqeuclidean"``)
  or ``d[e] = sum_j abs(y[j] - exemplar[e][j])`` (``metric="manhattan"``, for Gower); a
  segment's distance is the minimum over its exemplars; the label is the first segment with the
  smallest distance, or ``-1`` when that distance exceeds the segment's noise threshold (a
  squared radius for ``sqeuclidean``, a plain one for ``manhattan``);
* mixture: ``w[k][i] = sum_{j, P[k][j][i] != 0} (x[j] - means[k][j]) * P[k][j][i]``,
  ``score[k] = 2 * c[k] - sum_i w[k][i] ** 2`` with ``c[k] = log(weight[k]) +
  sum_i log(P[k][i][i]) - d/2 * log(2 pi)`` computed in Python; the label is the first
  component with the highest score (twice the weighted log-density, with no EXP anywhere).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SegmentationError

Matrix = tuple[tuple[float, ...], ...]


def _matrix(values: Any) -> Matrix:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(values, dtype=np.float64))


def _finite(*groups: Any) -> bool:
    return all(np.isfinite(np.asarray(g, dtype=np.float64)).all() for g in groups)


def ordered_dot(x: np.ndarray, offsets: Sequence[float], coefficients: Sequence[float]) -> np.ndarray:
    """``sum_j (x[:, j] - offsets[j]) * coefficients[j]``, term by term from ``j = 0``."""
    total: np.ndarray | None = None
    for j, (o, c) in enumerate(zip(offsets, coefficients, strict=True)):
        term = (x[:, j] - o) * c
        total = term if total is None else total + term
    return total if total is not None else np.zeros(len(x))


def ordered_square_distance(x: np.ndarray, point: Sequence[float]) -> np.ndarray:
    """``sum_j (x[:, j] - point[j]) ** 2``, term by term from ``j = 0``."""
    total: np.ndarray | None = None
    for j, c in enumerate(point):
        diff = x[:, j] - c
        total = diff * diff if total is None else total + diff * diff
    return total if total is not None else np.zeros(len(x))


def ordered_manhattan_distance(x: np.ndarray, point: Sequence[float]) -> np.ndarray:
    """``sum_j abs(x[:, j] - point[j])``, term by term from ``j = 0``."""
    total: np.ndarray | None = None
    for j, c in enumerate(point):
        term = np.abs(x[:, j] - c)
        total = term if total is None else total + term
    return total if total is not None else np.zeros(len(x))


METRICS = {"sqeuclidean": ordered_square_distance, "manhattan": ordered_manhattan_distance}


def first_argmin(values: np.ndarray) -> np.ndarray:
    """Column of the smallest value per row; ties go to the lowest index."""
    return np.argmin(values, axis=1).astype(np.int64)


@dataclass(frozen=True)
class Projection:
    """A linear projection ``y = (x - mean) @ components.T`` summed in feature order."""

    mean: tuple[float, ...]
    components: Matrix
    explained_variance_ratio: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.components or any(len(r) != len(self.mean) for r in self.components):
            raise SegmentationError("model is inconsistent: projection shapes differ")
        if not _finite(self.mean, self.components):
            raise SegmentationError("model is inconsistent: the projection has non-finite values")

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([ordered_dot(x, self.mean, row) for row in self.components])

    @classmethod
    def fit(cls, x: np.ndarray, *, variance: float = 0.9, random_state: int = 0) -> Projection:
        """PCA keeping the fewest components that explain at least ``variance`` of the variance."""
        from sklearn.decomposition import PCA

        if not 0 < variance <= 1:
            raise SegmentationError("the explained variance to keep must lie in (0, 1]")
        pca = PCA(n_components=None, svd_solver="full", random_state=random_state).fit(x)
        cumulative = np.cumsum(pca.explained_variance_ratio_)
        keep = min(int(np.searchsorted(cumulative, variance - 1e-12)) + 1, len(cumulative))
        return cls(
            mean=tuple(map(float, pca.mean_)),
            components=_matrix(pca.components_[:keep]),
            explained_variance_ratio=tuple(map(float, pca.explained_variance_ratio_[:keep])),
        )

    @classmethod
    def from_sklearn(cls, pca: Any) -> Projection:
        return cls(
            mean=tuple(map(float, pca.mean_)),
            components=_matrix(pca.components_),
            explained_variance_ratio=tuple(map(float, pca.explained_variance_ratio_)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": list(self.mean),
            "components": [list(r) for r in self.components],
            "explained_variance_ratio": list(self.explained_variance_ratio),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Projection:
        return cls(
            mean=tuple(float(v) for v in data["mean"]),
            components=_matrix(data["components"]),
            explained_variance_ratio=tuple(float(v) for v in data.get("explained_variance_ratio", ())),
        )


@dataclass(frozen=True)
class NearestExemplars:
    """Label of the nearest exemplar; ``-1`` beyond the segment's noise radius, if it has one."""

    exemplars: Matrix
    segments: tuple[int, ...]  # segment of each exemplar
    n_segments: int
    # Per segment: the largest distance a member may have (a squared radius for sqeuclidean).
    noise_radius_sq: tuple[float, ...] | None = None
    metric: str = "sqeuclidean"

    kind = "nearest_exemplar"

    def __post_init__(self) -> None:
        if len(self.segments) != len(self.exemplars) or not self.exemplars:
            raise SegmentationError("model is inconsistent: one segment is needed per exemplar")
        if sorted(set(self.segments)) != list(range(self.n_segments)):
            raise SegmentationError("model is inconsistent: every segment needs an exemplar")
        if len({len(r) for r in self.exemplars}) != 1 or not _finite(self.exemplars):
            raise SegmentationError("model is inconsistent: exemplars differ in dimension or are not finite")
        radius = self.noise_radius_sq
        if radius is not None and (len(radius) != self.n_segments or not all(r >= 0 for r in radius)):
            raise SegmentationError("model is inconsistent: one non-negative noise radius per segment")
        if self.metric not in METRICS:
            raise SegmentationError(f"unknown exemplar metric {self.metric!r}; known: {', '.join(METRICS)}")

    @property
    def dimension(self) -> int:
        return len(self.exemplars[0])

    def segment_distances(self, y: np.ndarray) -> np.ndarray:
        """Distance (``metric``) to each segment's nearest exemplar, shape (rows, segments)."""
        distance = METRICS[self.metric]
        out = np.full((len(y), self.n_segments), np.inf)
        for exemplar, k in zip(self.exemplars, self.segments, strict=True):
            out[:, k] = np.minimum(out[:, k], distance(y, exemplar))
        return out

    def predict(self, y: np.ndarray) -> np.ndarray:
        distances = self.segment_distances(y)
        labels = first_argmin(distances)
        if self.noise_radius_sq is not None:
            nearest = distances[np.arange(len(y)), labels]
            labels[nearest > np.asarray(self.noise_radius_sq)[labels]] = -1
        return labels

    def reordered(self, order: Sequence[int]) -> NearestExemplars:
        """Segment ``order[i]`` becomes segment ``i``."""
        new = {old: i for i, old in enumerate(order)}
        pairs = sorted(
            ((new[k], e) for e, k in zip(self.exemplars, self.segments, strict=True)), key=lambda p: p[0]
        )
        radius = None if self.noise_radius_sq is None else tuple(self.noise_radius_sq[k] for k in order)
        return NearestExemplars(
            tuple(e for _, e in pairs), tuple(k for k, _ in pairs), self.n_segments, radius, self.metric
        )

    @classmethod
    def from_labels(
        cls,
        x: np.ndarray,
        labels: np.ndarray,
        *,
        exemplars_per_segment: int = 1,
        noise_radius: float | Sequence[float] | None = None,
        random_state: int = 0,
    ) -> NearestExemplars:
        """Exemplars of the segments ``0..max(labels)`` from training points and their labels."""
        labels = np.asarray(labels)
        if exemplars_per_segment < 1:
            raise SegmentationError("each segment needs at least one exemplar")
        n_segments = int(labels.max()) + 1 if (labels >= 0).any() else 0
        exemplars, segments = [], []
        for k in range(n_segments):
            points = x[labels == k]
            if len(points) == 0:
                raise SegmentationError(f"segment {k} has no member to take an exemplar from")
            count = min(exemplars_per_segment, len(np.unique(points, axis=0)))
            if count == 1:
                centres = points.mean(axis=0, keepdims=True)
            else:
                from sklearn.cluster import KMeans

                fit = KMeans(n_clusters=count, n_init=3, random_state=random_state).fit(points)
                centres = fit.cluster_centers_
            exemplars += [tuple(map(float, c)) for c in centres]
            segments += [k] * len(centres)
        radius = None
        if noise_radius is not None:
            radii = np.asarray(noise_radius, dtype=float)
            values = np.full(n_segments, float(radii)) if radii.ndim == 0 else radii
            radius = tuple(float(r) * float(r) for r in values)
        return cls(tuple(exemplars), tuple(segments), n_segments, radius)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "exemplars": [list(r) for r in self.exemplars],
            "segments": list(self.segments),
            "n_segments": self.n_segments,
            "noise_radius_sq": None if self.noise_radius_sq is None else list(self.noise_radius_sq),
        }
        if self.metric != "sqeuclidean":  # written only when needed: older models keep their hash
            data["metric"] = self.metric
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NearestExemplars:
        radius = data.get("noise_radius_sq")
        return cls(
            exemplars=_matrix(data["exemplars"]),
            segments=tuple(int(k) for k in data["segments"]),
            n_segments=int(data["n_segments"]),
            noise_radius_sq=None if radius is None else tuple(float(r) for r in radius),
            metric=str(data.get("metric", "sqeuclidean")),
        )


@dataclass(frozen=True)
class GaussianMixtureAssigner:
    """Argmax of the weighted log-density of each Gaussian component."""

    weights: tuple[float, ...]
    means: Matrix
    precision_cholesky: tuple[Matrix, ...]  # upper triangular, precision = P @ P.T

    kind = "gaussian_mixture"

    def __post_init__(self) -> None:
        k, d = len(self.weights), len(self.means[0]) if self.means else 0
        if k == 0 or len(self.means) != k or len(self.precision_cholesky) != k:
            raise SegmentationError("model is inconsistent: mixture parameters differ in length")
        if any(len(m) != d for m in self.means) or any(
            len(p) != d or any(len(r) != d for r in p) for p in self.precision_cholesky
        ):
            raise SegmentationError("model is inconsistent: mixture parameters differ in dimension")
        if not all(w > 0 for w in self.weights) or not _finite(self.means, self.precision_cholesky):
            raise SegmentationError("model is inconsistent: mixture weights or parameters")
        if any(not p[i][i] > 0 for p in self.precision_cholesky for i in range(d)):
            raise SegmentationError("model is inconsistent: precision factors need a positive diagonal")

    @property
    def n_segments(self) -> int:
        return len(self.weights)

    @property
    def dimension(self) -> int:
        return len(self.means[0])

    @property
    def constants(self) -> tuple[float, ...]:
        """``c[k]``: log weight plus log-determinant of the precision factor, minus d/2 log 2 pi."""
        d = self.dimension
        half = 0.5 * d * math.log(2.0 * math.pi)
        return tuple(
            math.log(w) + math.fsum(math.log(p[i][i]) for i in range(d)) - half
            for w, p in zip(self.weights, self.precision_cholesky, strict=True)
        )

    def terms(self, k: int, i: int) -> list[int]:
        """Indices ``j`` with a non-zero factor ``P[k][j][i]``, in order: the only terms summed."""
        factor = self.precision_cholesky[k]
        return [j for j in range(self.dimension) if factor[j][i] != 0.0]

    def scores(self, y: np.ndarray) -> np.ndarray:
        """Twice the weighted log-density of each row under each component."""
        out = np.empty((len(y), self.n_segments))
        for k, (mean, factor, c) in enumerate(
            zip(self.means, self.precision_cholesky, self.constants, strict=True)
        ):
            quadratic = np.zeros(len(y))  # 0.0 + w*w is w*w exactly: the sum keeps its order
            for i in range(self.dimension):
                js = self.terms(k, i)
                w = ordered_dot(y[:, js], [mean[j] for j in js], [factor[j][i] for j in js])
                quadratic = quadratic + w * w
            out[:, k] = (2.0 * c) - quadratic
        return out

    def predict(self, y: np.ndarray) -> np.ndarray:
        return first_argmin(-self.scores(y))

    def predict_proba(self, y: np.ndarray) -> np.ndarray:
        log_density = self.scores(y) / 2.0
        top = log_density.max(axis=1, keepdims=True)
        weights = np.exp(log_density - top)
        return weights / weights.sum(axis=1, keepdims=True)

    def reordered(self, order: Sequence[int]) -> GaussianMixtureAssigner:
        return GaussianMixtureAssigner(
            tuple(self.weights[k] for k in order),
            tuple(self.means[k] for k in order),
            tuple(self.precision_cholesky[k] for k in order),
        )

    @classmethod
    def from_sklearn(cls, fitted: Any) -> GaussianMixtureAssigner:
        """From a fitted ``GaussianMixture`` of any ``covariance_type``."""
        k, d = fitted.means_.shape
        kind, factors = fitted.covariance_type, np.asarray(fitted.precisions_cholesky_)
        if kind == "full":
            full = factors
        elif kind == "tied":
            full = np.broadcast_to(factors, (k, d, d))
        elif kind == "diag":
            full = np.stack([np.diag(row) for row in factors])
        else:  # spherical
            full = np.stack([np.eye(d) * s for s in factors])
        return cls(
            weights=tuple(map(float, fitted.weights_)),
            means=_matrix(fitted.means_),
            precision_cholesky=tuple(_matrix(np.triu(f)) for f in full),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "weights": list(self.weights),
            "means": [list(r) for r in self.means],
            "precision_cholesky": [[list(r) for r in p] for p in self.precision_cholesky],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GaussianMixtureAssigner:
        return cls(
            weights=tuple(float(w) for w in data["weights"]),
            means=_matrix(data["means"]),
            precision_cholesky=tuple(_matrix(p) for p in data["precision_cholesky"]),
        )


Assigner = NearestExemplars | GaussianMixtureAssigner


def assigner_from_dict(data: Mapping[str, Any]) -> Assigner:
    kinds: dict[str, Any] = {
        "nearest_exemplar": NearestExemplars,
        "gaussian_mixture": GaussianMixtureAssigner,
    }
    if data.get("kind") not in kinds:
        raise SegmentationError(f"unknown assigner kind {data.get('kind')!r}; known: {', '.join(kinds)}")
    return kinds[data["kind"]].from_dict(data)
