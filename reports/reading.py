"""Reading an engine result defensively: optional keys may be missing, unknown keys are ignored.

The metrics are read through the engine's typed view, :class:`segmentation.result.RunMetrics`,
which already gives every key an older engine never wrote its default; what is left here is
the profile (one record per segment) and the plain values of the governance records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from segmentation.result import RunMetrics


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def run_metrics(metrics: RunMetrics | Mapping[str, Any]) -> RunMetrics:
    """The typed view of a result's metrics, given the stored dict or the view itself."""
    return metrics if isinstance(metrics, RunMetrics) else RunMetrics.from_dict(metrics)


def feature_names(profile: pd.DataFrame, metrics: RunMetrics) -> tuple[str, ...]:
    if metrics.features:
        return tuple(f for f in metrics.features if f"{f}_mean" in profile.columns)
    return tuple(str(c)[: -len("_mean")] for c in profile.columns if str(c).endswith("_mean"))


def population_means(profile: pd.DataFrame, metrics: RunMetrics, features: Sequence[str]) -> dict[str, float]:
    sizes = pd.to_numeric(profile.get("size", pd.Series(1, index=profile.index)), errors="coerce")
    means: dict[str, float] = {}
    for feature in features:
        value = metrics.population_means.get(feature)
        if value is None:
            # The size-weighted mean of segment means is the population mean of the same data.
            column = pd.to_numeric(profile[f"{feature}_mean"], errors="coerce")
            weights = sizes.where(column.notna(), 0).fillna(0)
            total = float(weights.sum())
            value = float((column.fillna(0) * weights).sum() / total) if total else 0.0
        means[feature] = value
    return means


def customer_count(metrics: RunMetrics, fallback: int) -> int:
    """Customers segmented; the rows read when the result does not say, else the profile's
    total size."""
    return next((count for count in (metrics.customers, metrics.rows) if count > 0), fallback)
