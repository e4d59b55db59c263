"""One input column's arithmetic: fill, clip, transform, standardise and weight a number, or encode a category.

Each column is a frozen record of the constants fitted on the training table, so the same
steps can be written into SQL constant for constant (:mod:`segmentation.sql.preprocess`).
The steps themselves are described in :mod:`segmentation.model.preprocess`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SegmentationError

TRANSFORMS = ("zscore", "robust", "log1p", "quantile")
ENCODINGS = ("onehot", "frequency")


def libm_log(values: np.ndarray) -> np.ndarray:
    """Natural log through the C library, as every database computes ``LN``.

    NumPy's own SIMD ``log`` differs from the C library's in the last bit for about one value in
    two thousand, and ``log1p`` for about one in ten; the C library is what the engines call.
    """
    return np.fromiter((math.log(v) for v in values.tolist()), dtype=np.float64, count=len(values))


@dataclass(frozen=True)
class NumericColumn:
    """One numeric input column: fill, clip, transform, standardise, weight."""

    name: str
    transform: str
    fill: float
    lower: float
    upper: float
    center: float
    scale: float
    knots: tuple[float, ...] = ()
    levels: tuple[float, ...] = ()  # quantile level of each knot, in [0, 1]
    indicator: bool = False
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.transform not in TRANSFORMS:
            raise SegmentationError(
                f"unknown transform {self.transform!r} for '{self.name}'; use one of {', '.join(TRANSFORMS)}"
            )
        constants = (self.fill, self.lower, self.upper, self.center, self.scale, self.weight)
        if not all(math.isfinite(v) for v in (*constants, *self.knots, *self.levels)):
            raise SegmentationError(f"model is inconsistent: '{self.name}' has a non-finite constant")
        if not (self.lower <= self.fill <= self.upper) or not self.scale > 0 or not self.weight > 0:
            raise SegmentationError(f"model is inconsistent: bounds, scale or weight of '{self.name}'")
        if self.transform == "log1p" and self.lower < 0:
            raise SegmentationError(f"model is inconsistent: log1p of '{self.name}' needs lower >= 0")
        if self.transform == "quantile":
            q = self.knots
            if len(q) < 2 or len(self.levels) != len(q) or any(b <= a for a, b in itertools.pairwise(q)):
                raise SegmentationError(f"model is inconsistent: quantile knots of '{self.name}'")
            if (self.lower, self.upper) != (q[0], q[-1]):
                raise SegmentationError(f"model is inconsistent: '{self.name}' is clipped to its knots")

    @property
    def slopes(self) -> tuple[float, ...]:
        """Slope of each quantile piece, computed once here and written into the SQL as is."""
        q, y = self.knots, self.levels
        return tuple((y[i + 1] - y[i]) / (q[i + 1] - q[i]) for i in range(len(q) - 1))

    def prepared(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        missing = np.isnan(x)
        return np.clip(np.where(missing, self.fill, x), self.lower, self.upper), missing

    def transformed(self, p: np.ndarray) -> np.ndarray:
        if self.transform == "log1p":
            return libm_log(1.0 + p)
        if self.transform == "quantile":
            q = np.asarray(self.knots)
            piece = np.clip(np.searchsorted(q, p, side="right") - 1, 0, len(q) - 2)
            return np.asarray(self.levels)[piece] + (p - q[piece]) * np.asarray(self.slopes)[piece]
        return p

    def feature(self, t: np.ndarray) -> np.ndarray:
        z = (t - self.center) / self.scale
        return z if self.weight == 1.0 else z * self.weight


@dataclass(frozen=True)
class CategoricalColumn:
    """One categorical input column, one-hot or frequency encoded."""

    name: str
    encoding: str
    levels: tuple[str, ...]
    shares: tuple[float, ...] = ()  # frequency: share of each level, then other, then missing
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise SegmentationError(
                f"unknown encoding {self.encoding!r} for '{self.name}'; use one of {', '.join(ENCODINGS)}"
            )
        if "" in self.levels or len(set(self.levels)) != len(self.levels):
            raise SegmentationError(f"model is inconsistent: levels of '{self.name}'")
        if self.encoding == "frequency" and len(self.shares) != len(self.levels) + 2:
            raise SegmentationError(f"model is inconsistent: shares of '{self.name}'")
        if not self.weight > 0 or not all(math.isfinite(v) for v in (self.weight, *self.shares)):
            raise SegmentationError(f"model is inconsistent: weight or shares of '{self.name}'")

    @property
    def outputs(self) -> list[str]:
        if self.encoding == "frequency":
            return [f"{self.name}=frequency"]
        return [f"{self.name}={level}" for level in self.levels] + [
            f"{self.name}:other",
            f"{self.name}:missing",
        ]

    def encoded(self, text: np.ndarray, missing: np.ndarray) -> np.ndarray:
        index = {level: i for i, level in enumerate(self.levels)}
        other, absent = len(self.levels), len(self.levels) + 1
        code = np.fromiter((index.get(v, other) for v in text.tolist()), dtype=np.int64, count=len(text))
        code[missing] = absent
        if self.encoding == "frequency":
            values = np.asarray([s * self.weight for s in self.shares])
            return values[code][:, None]
        out = np.zeros((len(text), len(self.levels) + 2))
        out[np.arange(len(text)), code] = self.weight
        return out
