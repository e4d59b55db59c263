"""The spec's differential-privacy options, read and checked: ``dp_epsilon`` and ``dp_bounds``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import SpecError

MAX_EPSILON = 10.0

BOUNDS_HELP = 'give each column two numbers, low below high, e.g. {"spend": [0, 5000]}'


def epsilon_option(data: Mapping[str, Any]) -> float | None:
    value = data.get("dp_epsilon")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_EPSILON:
        raise SpecError(f"'dp_epsilon' must be a positive number up to {MAX_EPSILON:g}, got {value!r}")
    return float(value)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def bounds_option(
    data: Mapping[str, Any], known_columns: tuple[str, ...] | None
) -> tuple[tuple[str, float, float], ...]:
    """``dp_bounds`` as sorted ``(column, low, high)`` triples; in JSON ``{"column": [low, high]}``.

    These are public bounds the project declares (from domain knowledge, never read off the
    data); a differentially private release clamps each column to them. Each column must be one
    of ``known_columns`` (None: a transaction log, whose features are engineered, is not checked).
    """
    value = data.get("dp_bounds")
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise SpecError(f"'dp_bounds' must map column names to [low, high]: {BOUNDS_HELP}")
    triples = []
    for column, pair in value.items():
        if not isinstance(column, str) or not column.strip():
            raise SpecError(f"'dp_bounds' names a column by {column!r}: column names are text")
        two = isinstance(pair, list | tuple) and len(pair) == 2
        low, high = (_number(pair[0]), _number(pair[1])) if two else (None, None)
        if low is None or high is None or not low < high:
            raise SpecError(f"'dp_bounds' of '{column}' is {pair!r}: {BOUNDS_HELP}")
        if known_columns is not None and column not in known_columns:
            raise SpecError(f"'dp_bounds' names '{column}', which is not one of 'numeric_columns'")
        triples.append((column, low, high))
    return tuple(sorted(triples))
