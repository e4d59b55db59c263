"""The preprocessor of a :class:`~segmentation.model.artefact.SegmentationModel`: table in, feature matrix out.

Fitted once on the customer table with::

    Preprocessor.fit(frame, numeric=["recency_days", ...], categorical=["region"],
                     transforms={"avg_basket": "log1p"}, indicators=True, clip_quantiles=None,
                     min_share=0.01, encodings={"region": "onehot"}, weights={"region": 0.5})

Every step is written so a SQL engine can repeat it bit for bit (see :mod:`segmentation.sql.scorer`):

* a numeric cell is read as a double; blank, unparsable and NaN cells are missing and take the
  column's fill value (the training median); then the value is clipped to ``[lower, upper]``
  (the training range, or training quantiles when ``clip_quantiles`` is given);
* ``t`` is the clipped value ``p`` itself (``zscore``, ``robust``), ``ln(1 + p)`` (``log1p``;
  computed with the C library's ``log`` as databases do, never NumPy's ``log1p``), or for
  ``quantile`` the piecewise-linear map ``y[i] + (p - q[i]) * slope[i]`` through the stored
  knots ``q`` (``i`` the last knot at or below ``p``), which lies in ``[0, 1]``;
* the feature is ``(t - center) / scale`` (mean/std for ``zscore`` and ``log1p``, median/IQR
  for ``robust``, 0/1 for ``quantile``), times the column's weight when it is not 1;
* with ``indicators`` a numeric column that had missing cells in training also yields a
  missing-indicator feature worth ``weight`` when missing and 0 otherwise;
* a categorical cell is read as text; NULL, NaN and ``''`` are missing. ``onehot`` yields one
  feature per kept level (training share at least ``min_share``), then ``other`` (rare and unseen
  levels) and ``missing``; ``frequency`` yields the training share of the level (rare and unseen
  levels share ``other``'s, missing cells the share of missing cells). Values are ``weight`` or 0.

Output features are ordered: numeric features, then indicators, then categorical encodings.
"""

from __future__ import annotations

import decimal
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError

_SCALARS = (str, int, float, np.number, decimal.Decimal)
TRANSFORMS = ("zscore", "robust", "log1p", "quantile")
ENCODINGS = ("onehot", "frequency")
QUANTILE_KNOTS = 101  # knots at 0%, 1%, ..., 100%


def libm_log(values: np.ndarray) -> np.ndarray:
    """Natural log through the C library, as every database computes ``LN``.

    NumPy's own SIMD ``log`` differs from the C library's in the last bit for about one value in
    two thousand, and ``log1p`` for about one in ten; the C library is what the engines call.
    """
    return np.fromiter((math.log(v) for v in values.tolist()), dtype=np.float64, count=len(values))


def coerce_numeric(values: pd.Series) -> pd.Series:
    """Read a column as float64; blank or unparsable cells become NaN, never an error."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = parsed.notna()
    if numbers.any():
        # pandas' own parser is off by one unit in the last place for about a third of
        # 17-digit decimals; databases and Python's float() round correctly, and the scorers
        # must read a CSV's numbers exactly as the model did. So the cells pandas found to be
        # numbers are read again by float() (through an object-to-float cast).
        parsed[numbers] = _correctly_rounded(text[numbers])
    return parsed


def _correctly_rounded(text: pd.Series) -> np.ndarray:
    try:
        return text.astype(object).astype("float64").to_numpy()
    except (TypeError, ValueError):  # a form pandas reads and float() does not
        return np.fromiter((_float_or_nan(v) for v in text.tolist()), dtype=np.float64, count=len(text))


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric input column as float64, refusing columns that cannot hold numbers."""
    if name not in frame.columns:
        raise SegmentationError(f"input lacks the model's column: {name}")
    column = frame[name]
    if pd.api.types.is_datetime64_any_dtype(column) or pd.api.types.is_timedelta64_dtype(column):
        raise SegmentationError(f"column '{name}' holds dates, but the model reads it as a number")
    if pd.api.types.is_complex_dtype(column):
        raise SegmentationError(f"column '{name}' holds complex numbers, not real ones")
    if column.dtype == object:
        odd = column.map(lambda v: not (v is None or v is pd.NA or isinstance(v, _SCALARS)))
        if odd.any():
            example = column[odd].iloc[0]
            raise SegmentationError(
                f"column '{name}' holds a {type(example).__name__} value; the model needs a number"
            )
    values = coerce_numeric(column)
    if pd.api.types.is_numeric_dtype(column):
        return values.to_numpy(dtype=np.float64, copy=True)
    text = column.astype("string").str.strip()
    filled = (text.notna() & (text != "")).to_numpy(dtype=bool)
    if filled.any() and np.isnan(values.to_numpy()[filled]).all():
        raise SegmentationError(
            f"column '{name}' holds text such as {str(column[filled].iloc[0])!r}; the model needs numbers"
        )
    return values.to_numpy(dtype=np.float64, copy=True)


def read_text(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A categorical input column as ``(text, missing)``; NULL, NaN and '' are missing."""
    if name not in frame.columns:
        raise SegmentationError(f"input lacks the model's column: {name}")
    text = frame[name].astype("string")
    missing = (text.isna() | (text == "")).to_numpy(dtype=bool)
    return text.fillna("").to_numpy(dtype=object), missing


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


@dataclass(frozen=True)
class Preprocessor:
    """Numeric and categorical columns, in input order; see the module docstring for the arithmetic."""

    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in (*self.numeric, *self.categorical)]
        if not names:
            raise SegmentationError("model is inconsistent: the preprocessor reads no column")
        if len(set(names)) != len(names):
            raise SegmentationError("model is inconsistent: a column is named twice")

    @property
    def columns(self) -> list[str]:
        return [c.name for c in (*self.numeric, *self.categorical)]

    @property
    def feature_names(self) -> list[str]:
        names = [c.name for c in self.numeric]
        names += [f"{c.name}:missing" for c in self.numeric if c.indicator]
        return names + [name for c in self.categorical for name in c.outputs]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The feature matrix, one row per input row, columns as :attr:`feature_names`."""
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise SegmentationError(f"input lacks the model's column(s): {', '.join(absent)}")
        blocks, indicators = [], []
        for column in self.numeric:
            p, missing = column.prepared(read_numeric(frame, column.name))
            blocks.append(column.feature(column.transformed(p))[:, None])
            if column.indicator:
                indicators.append(np.where(missing, column.weight, 0.0)[:, None])
        blocks += indicators
        for column in self.categorical:
            blocks.append(column.encoded(*read_text(frame, column.name)))
        return np.hstack(blocks) if blocks else np.empty((len(frame), 0))

    # -- fitting ------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        *,
        numeric: Sequence[str],
        categorical: Sequence[str] = (),
        transforms: Mapping[str, str] | str = "zscore",
        indicators: bool = False,
        clip_quantiles: tuple[float, float] | None = None,
        min_share: float = 0.01,
        encodings: Mapping[str, str] | str = "onehot",
        weights: Mapping[str, float] | None = None,
    ) -> Preprocessor:
        """Learn fill values, bounds, transforms and levels from the training table.

        ``transforms`` and ``encodings`` are one name for every column or a mapping by column
        (unlisted columns get ``zscore`` / ``onehot``); ``weights`` maps a column to its block
        weight (default 1). Raises :class:`SegmentationError` for an absent column, a numeric
        column without numbers or with a single value, and for unknown option names.
        """
        weights = dict(weights or {})
        for option, names, allowed in (
            ("weights", weights, {*numeric, *categorical}),
            ("transforms", {} if isinstance(transforms, str) else transforms, set(numeric)),
            ("encodings", {} if isinstance(encodings, str) else encodings, set(categorical)),
        ):
            unknown = sorted(set(names) - allowed)
            if unknown:
                raise SegmentationError(
                    f"{option} name column(s) the model does not use: {', '.join(unknown)}"
                )
        numeric_columns = tuple(
            _fit_numeric(
                frame,
                name,
                transforms if isinstance(transforms, str) else transforms.get(name, "zscore"),
                indicators=indicators,
                clip_quantiles=clip_quantiles,
                weight=float(weights.get(name, 1.0)),
            )
            for name in numeric
        )
        categorical_columns = tuple(
            _fit_categorical(
                frame,
                name,
                encodings if isinstance(encodings, str) else encodings.get(name, "onehot"),
                min_share=min_share,
                weight=float(weights.get(name, 1.0)),
            )
            for name in categorical
        )
        return cls(numeric=numeric_columns, categorical=categorical_columns)

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": [
                {
                    "name": c.name,
                    "transform": c.transform,
                    "fill": c.fill,
                    "lower": c.lower,
                    "upper": c.upper,
                    "center": c.center,
                    "scale": c.scale,
                    "knots": list(c.knots),
                    "levels": list(c.levels),
                    "indicator": c.indicator,
                    "weight": c.weight,
                }
                for c in self.numeric
            ],
            "categorical": [
                {
                    "name": c.name,
                    "encoding": c.encoding,
                    "levels": list(c.levels),
                    "shares": list(c.shares),
                    "weight": c.weight,
                }
                for c in self.categorical
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessor:
        def floats(values: Sequence[Any]) -> tuple[float, ...]:
            return tuple(float(v) for v in values)

        numeric = tuple(
            NumericColumn(
                name=str(c["name"]),
                transform=str(c["transform"]),
                fill=float(c["fill"]),
                lower=float(c["lower"]),
                upper=float(c["upper"]),
                center=float(c["center"]),
                scale=float(c["scale"]),
                knots=floats(c.get("knots", ())),
                levels=floats(c.get("levels", ())),
                indicator=bool(c.get("indicator", False)),
                weight=float(c.get("weight", 1.0)),
            )
            for c in data["numeric"]
        )
        categorical = tuple(
            CategoricalColumn(
                name=str(c["name"]),
                encoding=str(c["encoding"]),
                levels=tuple(str(v) for v in c["levels"]),
                shares=floats(c.get("shares", ())),
                weight=float(c.get("weight", 1.0)),
            )
            for c in data.get("categorical", ())
        )
        return cls(numeric=numeric, categorical=categorical)


def _fit_numeric(
    frame: pd.DataFrame,
    name: str,
    transform: str,
    *,
    indicators: bool,
    clip_quantiles: tuple[float, float] | None,
    weight: float,
) -> NumericColumn:
    if transform not in TRANSFORMS:
        raise SegmentationError(
            f"unknown transform {transform!r} for '{name}'; use one of {', '.join(TRANSFORMS)}"
        )
    x = read_numeric(frame, name)
    present = x[np.isfinite(x)]
    if present.size == 0:
        raise SegmentationError(f"column '{name}' has no numeric values")
    lower, upper = float(present.min()), float(present.max())
    if clip_quantiles is not None:
        lower, upper = (float(v) for v in np.quantile(present, clip_quantiles))
    if transform == "log1p":
        lower, upper = max(lower, 0.0), max(upper, 0.0)
    if not lower < upper:
        raise SegmentationError(
            f"column '{name}' has a single value within its bounds, so it cannot tell segments apart"
        )
    fill = float(np.clip(np.median(present), lower, upper))
    draft = NumericColumn(name, "zscore", fill, lower, upper, 0.0, 1.0)
    p, _ = draft.prepared(x)
    knots: tuple[float, ...] = ()
    levels: tuple[float, ...] = ()
    if transform == "quantile":
        probabilities = np.linspace(0.0, 1.0, QUANTILE_KNOTS)
        raw = np.quantile(p, probabilities)
        unique = np.unique(raw)
        # A knot repeated over several quantiles takes their mean level, as a tie would.
        levels = tuple(float(probabilities[raw == q].mean()) for q in unique)
        knots = tuple(float(q) for q in unique)
        lower, upper = knots[0], knots[-1]
        levels = (0.0, *levels[1:-1], 1.0)
    column = NumericColumn(name, transform, fill, lower, upper, 0.0, 1.0, knots, levels)
    t = column.transformed(p)
    if transform == "robust":
        q1, median, q3 = np.quantile(t, [0.25, 0.5, 0.75])
        center, scale = float(median), float(q3 - q1)
        if not scale > 0:  # more than half the customers share one value: fall back to the spread
            scale = float(t.std())
    elif transform == "quantile":
        center, scale = 0.0, 1.0
    else:
        center, scale = float(t.mean()), float(t.std())
    if not scale > 0 or not math.isfinite(scale):
        raise SegmentationError(f"column '{name}' has the same value for every customer")
    has_missing = bool(np.isnan(x).any())
    return NumericColumn(
        name, transform, fill, lower, upper, center, scale, knots, levels, indicators and has_missing, weight
    )


def _fit_categorical(
    frame: pd.DataFrame, name: str, encoding: str, *, min_share: float, weight: float
) -> CategoricalColumn:
    if encoding not in ENCODINGS:
        raise SegmentationError(
            f"unknown encoding {encoding!r} for '{name}'; use one of {', '.join(ENCODINGS)}"
        )
    text, missing = read_text(frame, name)
    n = max(len(text), 1)
    counts = pd.Series(text[~missing], dtype=object).value_counts()
    kept = sorted(str(level) for level, count in counts.items() if count / n >= min_share)
    shares: tuple[float, ...] = ()
    if encoding == "frequency":
        rare = int(counts[~counts.index.isin(kept)].sum())
        shares = (*(float(counts[level] / n) for level in kept), rare / n, float(missing.sum() / n))
    return CategoricalColumn(name=name, encoding=encoding, levels=tuple(kept), shares=shares, weight=weight)
