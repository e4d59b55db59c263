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
This module fits the columns and assembles them; reading a cell is :mod:`~segmentation.model.reading`'s
job, and each column's steps are :mod:`~segmentation.model.columns`'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .columns import ENCODINGS, TRANSFORMS, CategoricalColumn, NumericColumn
from .reading import read_numeric, read_text

QUANTILE_KNOTS = 101  # knots at 0%, 1%, ..., 100%


@dataclass(frozen=True)
class Preprocessor:
    """Numeric and categorical columns, in input order; see the module docstring for the arithmetic."""

    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...] = ()

    def __post_init__(self) -> None:
        names = self.columns
        if not names:
            raise SegmentationError("model is inconsistent: the preprocessor reads no column")
        if len(set(names)) != len(names):
            raise SegmentationError("model is inconsistent: a column is named twice")

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.numeric] + [c.name for c in self.categorical]

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
        for category in self.categorical:
            blocks.append(category.encoded(*read_text(frame, category.name)))
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
