"""Per-segment figures under the delivered numbering: segments numbered by size, largest first.

A clustering numbers its segments as it pleases; the pipeline delivers them by size, so a figure
keyed by the clustering's own label would describe another segment. These helpers key figures
by the delivered number (:meth:`segmentation.clustering.sweep.SweepResult.numbered`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def size_order(labels: np.ndarray) -> np.ndarray:
    """The segments of ``labels``, largest first and ties by label: the order they are delivered in."""
    segments, counts = np.unique(labels[labels >= 0], return_counts=True)
    return segments[np.lexsort((segments, -counts))]


def keyed_by_number(
    figures: Mapping[int, float], segments: Sequence[int] | np.ndarray
) -> dict[str, float | None]:
    """Per-segment figures as metrics.json keeps them: number ``s`` gets the figure of the
    clustering's segment ``segments[s]``."""
    return {
        str(number): json_safe(round(figures[int(label)], 4))
        for number, label in enumerate(segments)
        if int(label) in figures
    }


def intervals_by_number(
    intervals: Mapping[int, tuple[float, float]], segments: Sequence[int] | np.ndarray
) -> dict[str, list[float]]:
    """Per-segment intervals as metrics.json keeps them, numbered as :func:`keyed_by_number`."""
    return {
        str(number): [round(intervals[int(label)][0], 4), round(intervals[int(label)][1], 4)]
        for number, label in enumerate(segments)
        if int(label) in intervals
    }


def json_safe(value: Any) -> Any:
    """A value JSON (and PostgreSQL jsonb) can hold: NaN and infinities become None."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value
