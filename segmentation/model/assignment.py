"""How the selected clustering labels a customer it has never seen: the model's assigner.

Every algorithm hands over a rule the SQL scorers reproduce exactly (see
:mod:`segmentation.model.assigners`), as close to the algorithm's own ``predict`` as SQL allows:

* K-Means and MiniBatch K-Means: the nearest cluster centre, their own predict;
* Gaussian mixtures: the component with the highest weighted density, their own predict, with
  membership probabilities;
* agglomerative, spectral, DBSCAN and HDBSCAN: their own exemplars where they keep few enough
  for a scorer (ward on many customers: the micro-cluster centres it merged, so the rule is its
  own predict), otherwise the nearest of up to ``EXEMPLARS`` exemplars per segment (K-Means
  centres of the segment's members, so an elongated or curved segment keeps its shape); for
  DBSCAN and HDBSCAN a customer farther from every segment's exemplars than any of that
  segment's members is noise (``-1``);
* K-Prototypes: the nearest prototype under its own dissimilarity, squared distance on the
  numbers plus ``gamma`` per mismatched category, which is the squared Euclidean distance once
  every category is one-hot encoded at ``sqrt(gamma / 2)``;
* Gower agglomerative and HDBSCAN: the nearest of their exemplars in Gower distance, which is
  the Manhattan distance once every number is divided by its training range and every category
  is one-hot encoded at 1/2. A missing category counts as a level of its own here, where
  Gower's definition drops the feature from the pair's mean.

With categorical columns, the numeric algorithms clustered the sweep's space: the numbers plus
each level one-hot at ``1/sqrt(2)`` (:mod:`segmentation.clustering.sweep`). The model then reads the same
columns and its projection keeps exactly those level columns, so it assigns in that very space
(a missing or unseen level is all zeros there, as in the sweep).

The pipeline reports ``agreement``: the share of customers whose delivered label is the one the
clustering gave them; 1.0 up to exact ties for the native rules, the cost of the exemplar
approximation otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..clustering.algorithms import FINDS_K, MIXED
from ..clustering.gower import encode_categories
from .assigners import Assigner, GaussianMixtureAssigner, NearestExemplars, Projection
from .columns import CategoricalColumn
from .preprocess import Preprocessor

# Twelve K-Means centres trace a crescent or a ring closely enough that fewer than 1% of its
# members land elsewhere (tests/segmentation/test_assignment.py), while a scorer for ten
# segments of twenty features stays at a few thousand terms.
EXEMPLARS = 12
SWEEP_ONE_HOT = 1 / math.sqrt(2.0)  # the weight of a level column in the sweep's space
# A clusterer that keeps at most this many exemplars (ward's 300 micro-cluster centres) hands
# them over as they are; more (a density method's 20,000 sampled rows) are summarised.
OWN_EXEMPLARS = 400
GOWER_ONE_HOT = 0.5  # two one-hot columns differ for a mismatch: 2 x 1/2 = Gower's 1
NOISE_MARGIN = 1e-9

RULES = {
    "kmeans": "the nearest cluster centre (K-Means' own predict)",
    "minibatch_kmeans": "the nearest cluster centre (MiniBatch K-Means' own predict)",
    "gmm": "the most likely mixture component (the mixture's own predict), with membership probabilities",
    "kprototypes": "the nearest prototype under K-Prototypes' own dissimilarity (its own predict)",
    "gower_agglomerative": "the segment of the nearest exemplar in Gower distance",
    "gower_hdbscan": "the segment of the nearest exemplar in Gower distance",
}


@dataclass(frozen=True)
class Assignment:
    """What the model needs to assign like the clustering: its input, projection and rule."""

    preprocessor: Preprocessor
    projection: Projection | None
    assigner: Assigner
    labels: np.ndarray  # the clustering's labels renumbered 0..k-1 (noise stays -1)
    rule: str


def fit_assignment(
    algorithm: str,
    estimator: Any,
    *,
    space: np.ndarray,
    labels: np.ndarray,
    preprocessor: Preprocessor,
    projection: Projection | None,
    rows: pd.DataFrame,
    categorical: Sequence[str] = (),
    random_state: int = 0,
) -> Assignment:
    """The assignment rule of the fitted ``estimator`` of ``algorithm``.

    ``preprocessor`` and ``projection`` give the numeric clustering space of ``rows``;
    ``space`` is the sweep's space of every customer (that numeric space, then each level of the
    ``categorical`` columns one-hot at ``1/sqrt(2)``) and ``labels`` the clustering's labels.
    """
    labels, kept = _compact(labels)
    categorical = list(categorical)
    if algorithm == "kprototypes":
        gamma = float(estimator.model_.gamma)
        layout = _Layout.of(preprocessor, projection, rows[categorical], weight=math.sqrt(gamma / 2.0))
        return _kprototypes(estimator, kept, labels, layout)
    if algorithm in MIXED:
        layout = _Layout.of(preprocessor, projection, rows[categorical], weight=GOWER_ONE_HOT)
        return _gower(algorithm, estimator, kept, labels, layout, rows)
    if categorical:
        layout = _Layout.of(preprocessor, projection, rows[categorical], weight=SWEEP_ONE_HOT)
        preprocessor, projection = layout.preprocessor, layout.projection(levels_only=True)
    if algorithm in ("kmeans", "minibatch_kmeans"):
        centres = np.asarray(estimator.cluster_centers_)[kept]
        assigner: Assigner = NearestExemplars(_rows(centres), tuple(range(len(kept))), len(kept))
        return Assignment(preprocessor, projection, assigner, labels, RULES[algorithm])
    if algorithm == "gmm":
        mixture = GaussianMixtureAssigner.from_sklearn(estimator).reordered(list(kept))
        return Assignment(preprocessor, projection, mixture, labels, RULES[algorithm])
    # A density method's own exemplars are its members themselves: a noise threshold drawn
    # from them would be zero, so density methods always get summarised exemplars.
    own = None if algorithm in FINDS_K else _own_exemplars(estimator, kept, space.shape[1])
    assigner, rule = own or (
        NearestExemplars.from_labels(
            space, labels, exemplars_per_segment=EXEMPLARS, random_state=random_state
        ),
        f"the segment of the nearest of up to {EXEMPLARS} exemplars per segment",
    )
    if algorithm in FINDS_K:
        assigner = with_noise_threshold(assigner, space, labels)
        rule += "; farther from every segment than any of its members is noise"
    return Assignment(preprocessor, projection, assigner, labels, rule)


def _own_exemplars(estimator: Any, kept: np.ndarray, width: int) -> tuple[NearestExemplars, str] | None:
    """The clusterer's own exemplars (ward's micro-cluster centres on large data, or the
    customers it clustered on small data), when they are few enough for a scorer: its predict
    is then the model's rule exactly."""
    rows = getattr(estimator, "exemplars_", None)
    owners = getattr(estimator, "exemplar_labels_", None)
    if rows is None or owners is None or np.asarray(rows).shape[1] != width:
        return None
    owners = np.asarray(owners)
    member = np.isin(owners, kept)
    if not 0 < member.sum() <= OWN_EXEMPLARS or set(owners[member]) != set(kept.tolist()):
        return None
    what = "micro-cluster centres" if getattr(estimator, "micro_clusters_", False) else "clustered customers"
    assigner = NearestExemplars(
        _rows(np.asarray(rows)[member]),
        tuple(int(k) for k in np.searchsorted(kept, owners[member])),
        len(kept),
    )
    return (
        assigner,
        f"the segment of the nearest of its {int(member.sum())} {what} (its own predict)",
    )


def with_noise_threshold(
    assigner: NearestExemplars, space: np.ndarray, labels: np.ndarray
) -> NearestExemplars:
    """Each segment's noise threshold: the largest distance any of its members has to it.

    Widened by a relative ``NOISE_MARGIN`` so the farthest member is not left on a knife edge
    that one unit in the last place of its data (a decimal export read back) could tip over.
    """
    distances = assigner.segment_distances(space)
    thresholds = tuple(
        float(distances[labels == k, k].max()) * (1.0 + NOISE_MARGIN) for k in range(assigner.n_segments)
    )
    return replace(assigner, noise_radius_sq=thresholds)


def _compact(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels renumbered 0..k-1 over the segments that have members; ``kept[new] = old``."""
    labels = np.asarray(labels, dtype=np.int64)
    kept = np.unique(labels[labels >= 0])
    renumbered = np.full(len(labels), -1, dtype=np.int64)
    member = labels >= 0
    renumbered[member] = np.searchsorted(kept, labels[member])
    return renumbered, kept


def _rows(matrix: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(matrix, dtype=np.float64))


@dataclass(frozen=True)
class _Layout:
    """The numeric preprocessing and projection, plus the categorical columns one-hot encoded.

    The preprocessor's output is ``[numeric features | one-hot blocks]``, each block holding the
    column's levels (every training level is kept), then ``other`` and ``missing``.
    """

    preprocessor: Preprocessor
    numeric_projection: Projection | None
    columns: tuple[CategoricalColumn, ...]
    levels: tuple[np.ndarray, ...]  # the sweep's level of each category code, per column

    @classmethod
    def of(
        cls,
        numeric: Preprocessor,
        projection: Projection | None,
        categories: pd.DataFrame,
        weight: float,
    ) -> _Layout:
        encoded = Preprocessor.fit(
            categories,
            numeric=[],
            categorical=list(categories.columns),
            min_share=0.0,
            weights=dict.fromkeys(categories.columns, weight),
        )
        _, levels = encode_categories(categories.to_numpy(dtype=object))
        return cls(
            Preprocessor(numeric=numeric.numeric, categorical=encoded.categorical),
            projection,
            encoded.categorical,
            tuple(levels),
        )

    @property
    def numeric_width(self) -> int:
        """Width of the numeric clustering space (after the projection, if any)."""
        if self.numeric_projection is not None:
            return len(self.numeric_projection.components)
        return len(self.preprocessor.numeric)

    def projection(self, *, levels_only: bool = False, scale: np.ndarray | None = None) -> Projection | None:
        """The numeric projection (each output divided by ``scale``) followed by the one-hot
        columns (only the level columns with ``levels_only``); None where that is the identity."""
        numeric_in = len(self.preprocessor.numeric)
        if self.numeric_projection is None and scale is None and not levels_only:
            return None
        if self.numeric_projection is None:
            mean, components = np.zeros(numeric_in), np.eye(numeric_in)
        else:
            mean = np.asarray(self.numeric_projection.mean)
            components = np.asarray(self.numeric_projection.components)
        if scale is not None:
            components = components / np.asarray(scale)[:, None]
        one_hot_in = sum(len(c.outputs) for c in self.columns)
        kept: list[int] = []
        start = numeric_in
        for column in self.columns:
            width = len(column.levels) if levels_only else len(column.outputs)
            kept += range(start, start + width)
            start += len(column.outputs)
        full = np.zeros((len(components) + len(kept), numeric_in + one_hot_in))
        full[: len(components), :numeric_in] = components
        full[np.arange(len(components), len(full)), kept] = 1.0
        return Projection(
            mean=tuple(float(v) for v in np.concatenate([mean, np.zeros(one_hot_in)])),
            components=_rows(full),
            explained_variance_ratio=(
                () if self.numeric_projection is None else self.numeric_projection.explained_variance_ratio
            ),
        )

    def one_hot(self, codes: np.ndarray) -> np.ndarray:
        """The one-hot blocks (at each column's weight) of rows given as the sweep's category codes."""
        blocks = []
        for j, column in enumerate(self.columns):
            text = np.array([self.levels[j][int(c)] if c >= 0 else "" for c in codes[:, j]], dtype=object)
            blocks.append(column.encoded(text, text == ""))
        return np.hstack(blocks)


def _kprototypes(estimator: Any, kept: np.ndarray, labels: np.ndarray, layout: _Layout) -> Assignment:
    """``layout`` one-hot encodes at ``sqrt(gamma / 2)``: a mismatch then costs ``gamma``."""
    centroids = np.asarray(estimator.model_.cluster_centroids_, dtype=float)[kept]
    width = layout.numeric_width
    exemplars = np.hstack([centroids[:, :width], layout.one_hot(centroids[:, width:])])
    return Assignment(
        layout.preprocessor,
        layout.projection(),
        NearestExemplars(_rows(exemplars), tuple(range(len(kept))), len(kept)),
        labels,
        RULES["kprototypes"],
    )


def _gower(
    algorithm: str,
    estimator: Any,
    kept: np.ndarray,
    labels: np.ndarray,
    layout: _Layout,
    rows: pd.DataFrame,
) -> Assignment:
    """``layout`` one-hot encodes at 1/2: a mismatch then adds Gower's 1 to the Manhattan sum."""
    ranges = np.asarray(estimator.ranges_, dtype=float)
    chosen = np.asarray(estimator.exemplars_, dtype=float)
    old = np.asarray(estimator.exemplar_labels_)
    member = np.isin(old, kept)
    width = layout.numeric_width
    exemplars = np.hstack([chosen[member, :width] / ranges, layout.one_hot(chosen[member, width:])])
    assigner = NearestExemplars(
        _rows(exemplars),
        tuple(int(k) for k in np.searchsorted(kept, old[member])),
        len(kept),
        metric="manhattan",
    )
    projection = layout.projection(scale=ranges)
    rule = RULES[algorithm]
    if algorithm in FINDS_K:
        assert projection is not None  # the division by the ranges is always a projection
        everyone = projection.transform(layout.preprocessor.transform(rows))
        assigner = with_noise_threshold(assigner, everyone, labels)
        rule += "; farther from every segment than any of its members is noise"
    return Assignment(layout.preprocessor, projection, assigner, labels, rule)
