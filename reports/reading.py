"""Reading an engine result defensively: optional keys may be missing, unknown keys are ignored."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


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


def feature_names(profile: pd.DataFrame, metrics: Mapping[str, Any]) -> tuple[str, ...]:
    listed = metrics.get("features")
    if isinstance(listed, Sequence) and not isinstance(listed, str) and listed:
        return tuple(str(f) for f in listed if f"{f}_mean" in profile.columns)
    return tuple(str(c)[: -len("_mean")] for c in profile.columns if str(c).endswith("_mean"))


def population_means(
    profile: pd.DataFrame, metrics: Mapping[str, Any], features: Sequence[str]
) -> dict[str, float]:
    given = mapping(metrics.get("population_means"))
    sizes = pd.to_numeric(profile.get("size", pd.Series(1, index=profile.index)), errors="coerce")
    means: dict[str, float] = {}
    for feature in features:
        value = as_float(given.get(feature))
        if value is None:
            # The size-weighted mean of segment means is the population mean of the same data.
            column = pd.to_numeric(profile[f"{feature}_mean"], errors="coerce")
            weights = sizes.where(column.notna(), 0).fillna(0)
            total = float(weights.sum())
            value = float((column.fillna(0) * weights).sum() / total) if total else 0.0
        means[feature] = value
    return means


def customer_count(metrics: Mapping[str, Any], fallback: int) -> int:
    """Customers segmented; the profile's total size when the result does not say."""
    for key in ("customers", "rows"):
        if as_int(metrics.get(key)) > 0:
            return as_int(metrics.get(key))
    return fallback


def selected_solution(metrics: Mapping[str, Any]) -> dict[str, Any]:
    selected = dict(mapping(metrics.get("selected")))
    if as_float(selected.get("silhouette")) is None:
        for candidate in candidates(metrics):
            if is_selected(candidate, selected):
                selected["silhouette"] = candidate.get("silhouette")
    return selected


def candidates(metrics: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = metrics.get("candidates")
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    return [c for c in raw if isinstance(c, Mapping)]


def is_selected(candidate: Mapping[str, Any], selected: Mapping[str, Any]) -> bool:
    if as_int(candidate.get("k"), -1) != as_int(selected.get("k"), -2):
        return False
    algorithm = selected.get("algorithm")
    return algorithm is None or candidate.get("algorithm") in (None, algorithm)
