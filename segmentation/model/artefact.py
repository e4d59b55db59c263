"""The fitted segmentation model: a plain value that scores new customers.

Two formats load (see :func:`load_model`):

* ``segplatform.model/1`` — :class:`SegmentationModel`: a :class:`~.model_preprocess.Preprocessor`
  (fill, clip, transforms, one-hot/frequency encodings, weights), an optional
  :class:`~.model_assign.Projection` (PCA), an optional row normalisation (``"l2"``: each row
  scaled to unit length, for the cosine distance; arithmetic in :mod:`~.reduction`) and an
  assigner, either
  :class:`~.model_assign.NearestExemplars` (K-Means is one exemplar per segment; density
  methods add a noise radius and label ``-1``) or :class:`~.model_assign.GaussianMixtureAssigner`;
* ``segplatform.centroid/1`` — :class:`CentroidModel`, the foundation's nearest centroid over
  standardised numeric features, kept so old versions load and predict exactly as before
  (:meth:`CentroidModel.to_segmentation_model` gives the same labels in the new form).

The model is the single source of truth for assignment. Python's ``predict``, the SQL scorers
and the scoring API all evaluate exactly the arithmetic written down in these modules, in the
same order, so they agree label for label. For the centroid model:

1. each feature is read as a number; blank or unparsable cells become missing;
2. missing values are replaced by the feature's fill value (the training median);
3. values are clipped to ``[lower, upper]`` so no database overflows on extreme inputs;
4. ``z = (x - center) / scale``;
5. the squared distance to each centroid is summed feature by feature, left to right;
6. the segment is the first centroid with the smallest distance.

Models serialise to JSON only (never pickle), so loading an artefact cannot run code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..clustering.reduction import unit_rows
from ..errors import SegmentationError
from .assigners import Assigner, NearestExemplars, Projection, assigner_from_dict
from .columns import NumericColumn
from .preprocess import Preprocessor
from .reading import coerce_numeric

__all__ = ["CentroidModel", "SegmentationModel", "as_segmentation_model", "coerce_numeric", "load_model"]

MODEL_FORMAT = "segplatform.centroid/1"
SEGMENTATION_FORMAT = "segplatform.model/1"
NOISE_NAME = "Unassigned"
# Row normalisations a model may apply after its projection: "l2" (unit length, for cosine).
NORMALISATIONS = ("l2",)

# Standardised values beyond this many scales from the centre are clipped: far outside any
# real data, yet small enough that squaring them never overflows a double in any database.
CLIP_SCALES = 1e6


@dataclass(frozen=True)
class CentroidModel:
    """Nearest-centroid assignment over standardised numeric features.

    Attributes
    ----------
    id_column : name of the customer id column in the input.
    features : input column names, in evaluation order.
    fill_values : value used for a missing cell, per feature.
    lower, upper : clipping bounds per feature, applied after filling.
    centers, scales : standardisation ``z = (x - center) / scale`` per feature.
    centroids : one row per segment, coordinates in standardised space.
    segment_names : a short business name per segment.
    """

    id_column: str
    features: tuple[str, ...]
    fill_values: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    centers: tuple[float, ...]
    scales: tuple[float, ...]
    centroids: tuple[tuple[float, ...], ...]
    segment_names: tuple[str, ...]
    format: str = field(default=MODEL_FORMAT)

    def __post_init__(self) -> None:
        n = len(self.features)
        per_feature = (self.fill_values, self.lower, self.upper, self.centers, self.scales)
        if any(len(values) != n for values in per_feature):
            raise SegmentationError("model is inconsistent: per-feature arrays differ in length")
        if any(len(row) != n for row in self.centroids):
            raise SegmentationError("model is inconsistent: a centroid has the wrong dimension")
        if len(self.segment_names) != len(self.centroids):
            raise SegmentationError("model is inconsistent: one name is needed per segment")
        if any(not s > 0 for s in self.scales):
            raise SegmentationError("model is inconsistent: every scale must be positive")

    @property
    def n_segments(self) -> int:
        return len(self.centroids)

    # -- scoring ---------------------------------------------------------------------------
    def prepared(self, frame: pd.DataFrame) -> np.ndarray:
        """Steps 1–3: the numeric matrix after filling and clipping, one column per feature."""
        missing = [c for c in self.features if c not in frame.columns]
        if missing:
            raise SegmentationError(f"input lacks the model's column(s): {', '.join(missing)}")
        matrix = np.column_stack([coerce_numeric(frame[c]).to_numpy() for c in self.features])
        matrix = np.where(np.isnan(matrix), np.asarray(self.fill_values), matrix)
        return np.clip(matrix, np.asarray(self.lower), np.asarray(self.upper))

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Steps 1–4: standardised features."""
        return (self.prepared(frame) - np.asarray(self.centers)) / np.asarray(self.scales)

    def distances(self, frame: pd.DataFrame) -> np.ndarray:
        """Step 5: squared distance of each row to each centroid, shape (rows, segments)."""
        z = self.transform(frame)
        out = np.empty((z.shape[0], self.n_segments))
        for k, centroid in enumerate(self.centroids):
            total = np.zeros(z.shape[0])
            # Summed one feature at a time, left to right, exactly as the SQL scorer does.
            for j, c in enumerate(centroid):
                diff = z[:, j] - c
                total = total + diff * diff
            out[:, k] = total
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Step 6: the segment label (0-based) of every row."""
        return np.argmin(self.distances(frame), axis=1).astype(np.int64)

    def to_segmentation_model(self) -> SegmentationModel:
        """The same model in the general form: identical arithmetic, hence identical labels."""
        columns = []
        for j, name in enumerate(self.features):
            # np.clip yields ``upper`` when lower > upper; the fill value is clipped as well.
            upper = self.upper[j]
            lower = min(self.lower[j], upper)
            fill = min(max(self.fill_values[j], lower), upper)
            columns.append(NumericColumn(name, "zscore", fill, lower, upper, self.centers[j], self.scales[j]))
        assigner = NearestExemplars(
            exemplars=self.centroids, segments=tuple(range(self.n_segments)), n_segments=self.n_segments
        )
        return SegmentationModel(
            id_column=self.id_column,
            preprocessor=Preprocessor(numeric=tuple(columns)),
            assigner=assigner,
            segment_names=self.segment_names,
        )

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["centroids"] = [list(row) for row in self.centroids]
        for key in ("features", "fill_values", "lower", "upper", "centers", "scales", "segment_names"):
            data[key] = list(data[key])
        return data

    def to_json(self) -> bytes:
        """Canonical JSON: the same model always gives the same bytes (and hash)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CentroidModel:
        if data.get("format") != MODEL_FORMAT:
            raise SegmentationError(f"unsupported model format {data.get('format')!r}")

        def floats(values: Sequence[Any]) -> tuple[float, ...]:
            return tuple(float(v) for v in values)

        return cls(
            id_column=str(data["id_column"]),
            features=tuple(str(f) for f in data["features"]),
            fill_values=floats(data["fill_values"]),
            lower=floats(data["lower"]),
            upper=floats(data["upper"]),
            centers=floats(data["centers"]),
            scales=floats(data["scales"]),
            centroids=tuple(floats(row) for row in data["centroids"]),
            segment_names=tuple(str(n) for n in data["segment_names"]),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> CentroidModel:
        return cls.from_dict(json.loads(raw))


@dataclass(frozen=True)
class SegmentationModel:
    """Preprocessor, optional projection and assigner: the whole fitted artefact.

    JSON (``to_dict``; keys sorted in :meth:`to_json`)::

        {"format": "segplatform.model/1", "id_column": "customer_id",
         "segment_names": ["Loyal high spenders", ...], "noise_name": "Unassigned",
         "preprocessor": {"numeric": [{"name", "transform", "fill", "lower", "upper", "center",
                                       "scale", "knots", "levels", "indicator", "weight"}, ...],
                          "categorical": [{"name", "encoding", "levels", "shares", "weight"}, ...]},
         "projection": null | {"mean": [...], "components": [[...], ...],
                               "explained_variance_ratio": [...]},
         "normalisation": "l2",   (only when set: rows scaled to unit length after projection)
         "assigner": {"kind": "nearest_exemplar", "exemplars": [[...]], "segments": [0, ...],
                      "n_segments": k, "noise_radius_sq": null | [...],
                      "metric": "manhattan" (only when not the default "sqeuclidean")}
                   | {"kind": "gaussian_mixture", "weights": [...], "means": [[...]],
                      "precision_cholesky": [[[...]]]},
         "metadata": {...}}

    ``metadata`` is free JSON (algorithm, k, spec hash…) carried along and hashed.
    ``normalisation`` is written only when set, so models without one keep their bytes and hash.
    """

    id_column: str
    preprocessor: Preprocessor
    assigner: Assigner
    segment_names: tuple[str, ...]
    projection: Projection | None = None
    noise_name: str = NOISE_NAME
    metadata: dict[str, Any] = field(default_factory=dict)
    format: str = field(default=SEGMENTATION_FORMAT)
    normalisation: str | None = None

    def __post_init__(self) -> None:
        if self.normalisation is not None and self.normalisation not in NORMALISATIONS:
            raise SegmentationError(
                f"model is inconsistent: unknown normalisation {self.normalisation!r}; "
                f"known: {', '.join(NORMALISATIONS)}"
            )
        width = len(self.preprocessor.feature_names)
        if self.projection is not None:
            if len(self.projection.mean) != width:
                raise SegmentationError("model is inconsistent: the projection expects other features")
            width = len(self.projection.components)
        if self.assigner.dimension != width:
            raise SegmentationError("model is inconsistent: the assigner expects another dimension")
        if len(self.segment_names) != self.assigner.n_segments:
            raise SegmentationError("model is inconsistent: one name is needed per segment")
        if self.id_column in self.preprocessor.columns:
            raise SegmentationError("model is inconsistent: the id column is also a feature")

    @property
    def n_segments(self) -> int:
        return self.assigner.n_segments

    @property
    def features(self) -> tuple[str, ...]:
        """The input columns the model reads (besides the id)."""
        return tuple(self.preprocessor.columns)

    # -- scoring ---------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Preprocessed features, projected when the model has a projection, then normalised
        when it has a normalisation: the space the assigner works in."""
        x = self.preprocessor.transform(frame)
        y = x if self.projection is None else self.projection.transform(x)
        return y if self.normalisation is None else unit_rows(y)

    def distances(self, frame: pd.DataFrame) -> np.ndarray:
        """Squared distance of each row to each segment's nearest exemplar, (rows, segments)."""
        if not isinstance(self.assigner, NearestExemplars):
            raise SegmentationError("a mixture model has densities, not distances: use predict_proba")
        return self.assigner.segment_distances(self.transform(frame))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The segment label (0-based; ``-1`` for noise) of every row."""
        return self.assigner.predict(self.transform(frame))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Membership probabilities, shape (rows, segments); ``None`` for hard assigners."""
        if not hasattr(self.assigner, "predict_proba"):
            return None
        return self.assigner.predict_proba(self.transform(frame))

    def names_of(self, labels: np.ndarray) -> list[str]:
        names = [*self.segment_names, self.noise_name]  # index -1 is the noise name
        return [names[int(k)] for k in labels]

    def reordered(
        self, order: Sequence[int], segment_names: Sequence[str] | None = None
    ) -> SegmentationModel:
        """Segment ``order[i]`` becomes segment ``i`` (e.g. to number segments by size)."""
        names = (
            tuple(segment_names) if segment_names is not None else tuple(self.segment_names[k] for k in order)
        )
        return replace(self, assigner=self.assigner.reordered(order), segment_names=names)

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = {
            "format": self.format,
            "id_column": self.id_column,
            "segment_names": list(self.segment_names),
            "noise_name": self.noise_name,
            "preprocessor": self.preprocessor.to_dict(),
            "projection": None if self.projection is None else self.projection.to_dict(),
            "assigner": self.assigner.to_dict(),
            "metadata": self.metadata,
        }
        if self.normalisation is not None:
            data["normalisation"] = self.normalisation
        return data

    def to_json(self) -> bytes:
        """Canonical JSON: the same model always gives the same bytes (and hash)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), allow_nan=False).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentationModel:
        if data.get("format") != SEGMENTATION_FORMAT:
            raise SegmentationError(f"unsupported model format {data.get('format')!r}")
        try:
            projection = data.get("projection")
            return cls(
                id_column=str(data["id_column"]),
                preprocessor=Preprocessor.from_dict(data["preprocessor"]),
                assigner=assigner_from_dict(data["assigner"]),
                segment_names=tuple(str(n) for n in data["segment_names"]),
                projection=None if projection is None else Projection.from_dict(projection),
                noise_name=str(data.get("noise_name", NOISE_NAME)),
                metadata=dict(data.get("metadata") or {}),
                normalisation=None if data.get("normalisation") is None else str(data["normalisation"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, SegmentationError):
                raise
            raise SegmentationError(f"the model file is damaged: {error!r}") from None

    @classmethod
    def from_json(cls, raw: bytes | str) -> SegmentationModel:
        return cls.from_dict(json.loads(raw))


AnyModel = SegmentationModel | CentroidModel


def numeric_bounds(model: AnyModel) -> dict[str, tuple[float, float]]:
    """The clipping bounds of each numeric input column, whichever format the model has."""
    if isinstance(model, CentroidModel):
        return {f: (model.lower[i], model.upper[i]) for i, f in enumerate(model.features)}
    return {c.name: (c.lower, c.upper) for c in model.preprocessor.numeric}


def load_model(data: dict[str, Any] | bytes | str) -> AnyModel:
    """Load either model format from its dict or JSON; never executes code."""
    if isinstance(data, bytes | str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise SegmentationError("a model is a JSON object")
    if data.get("format") == MODEL_FORMAT:
        return CentroidModel.from_dict(data)
    return SegmentationModel.from_dict(data)


def as_segmentation_model(model: AnyModel) -> SegmentationModel:
    return model.to_segmentation_model() if isinstance(model, CentroidModel) else model
