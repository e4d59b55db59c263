"""A segment against the average customer: one relative difference, with one zero guard.

The profile's lift, the results page's key figures and heatmap, and the report's traits all
compare a segment's mean of a feature with the population's. They do it here:

- ``versus_average(mean, average) = (mean - average) / |average|``: +0.5 reads "50% above the
  average" and -0.5 "50% below", whatever the sign of the average;
- ``lift(mean, average) = mean / average``: the profile's ``<feature>_lift``.

The zero guard, the same for both: a comparison is undefined (None) when ``|average| <=
ZERO_AVERAGE``, or when either number is missing or not finite. A relative gap to an average of
zero has no scale: a segment at 0.001 against an average of 1e-15 is not "a trillion times the
average", and the reader is better served by the absolute figures the page shows beside it.
The guard is absolute, not relative to the feature's spread: 1e-12 is the report's long-standing
threshold, and for features in ordinary units (counts, days, money) an average that small is
zero up to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

ZERO_AVERAGE = 1e-12

MEAN_SUFFIX = "_mean"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _comparable(mean: Any, average: Any) -> tuple[float, float] | None:
    """Both numbers, or None when the zero guard (or a missing number) makes them incomparable."""
    m, a = _finite(mean), _finite(average)
    if m is None or a is None or abs(a) <= ZERO_AVERAGE:
        return None
    return m, a


def versus_average(mean: Any, average: Any) -> float | None:
    """``(mean - average) / |average|``, or None under the zero guard (see the module docstring)."""
    pair = _comparable(mean, average)
    return None if pair is None else (pair[0] - pair[1]) / abs(pair[1])


def lift(mean: Any, average: Any) -> float | None:
    """``mean / average``, or None under the same zero guard as :func:`versus_average`."""
    pair = _comparable(mean, average)
    return None if pair is None else pair[0] / pair[1]


def segments_versus_average(
    profile: pd.DataFrame | Sequence[Mapping[str, Any]],
    population_means: Mapping[str, Any],
    features: Sequence[str] | None = None,
) -> dict[int, dict[str, float | None]]:
    """:func:`versus_average` of every segment of a profile on every feature.

    ``profile`` is the profile as a frame or as the stored records (``<feature>_mean`` per
    segment); ``population_means`` as in the metrics. ``features`` default to those of
    ``population_means``, in its order. Keyed by each row's ``segment`` (its position when the
    row has none), in the profile's order.
    """
    rows = profile.to_dict(orient="records") if isinstance(profile, pd.DataFrame) else list(profile)
    names = list(population_means) if features is None else list(features)
    table: dict[int, dict[str, float | None]] = {}
    for position, row in enumerate(rows):
        segment = row.get("segment")
        key = int(segment) if _finite(segment) is not None else position
        table[key] = {f: versus_average(row.get(f + MEAN_SUFFIX), population_means.get(f)) for f in names}
    return table
