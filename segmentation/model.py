"""The fitted segmentation model: a plain value that scores new customers.

The model is the single source of truth for assignment. Python's :meth:`CentroidModel.predict`,
the SQL scorers and the scoring API all evaluate exactly the arithmetic written down here, in
the same order, so they agree label for label:

1. each feature is read as a number; blank or unparsable cells become missing;
2. missing values are replaced by the feature's fill value (the training median);
3. values are clipped to ``[lower, upper]`` so no database overflows on extreme inputs;
4. ``z = (x - center) / scale``;
5. the squared distance to each centroid is summed feature by feature, left to right;
6. the segment is the first centroid with the smallest distance.

The model serialises to JSON only (never pickle), so loading an artefact cannot run code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import SegmentationError

MODEL_FORMAT = "segplatform.centroid/1"

# Standardised values beyond this many scales from the centre are clipped: far outside any
# real data, yet small enough that squaring them never overflows a double in any database.
CLIP_SCALES = 1e6


def coerce_numeric(values: pd.Series) -> pd.Series:
    """Read a column as float64; blank or unparsable cells become NaN, never an error."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


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
