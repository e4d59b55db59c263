"""Reading stored metrics tolerantly: a key an older engine never wrote gets a typed default.

Stored metrics are JSON written by every engine version since the foundation, so any key may be
missing and, in hand-edited or damaged rows, hold the wrong type. These readers never raise:
they return the default instead, so one odd value cannot take a results page down.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    """A JSON array as a list; text is not an array of characters here."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def records(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in items(value) if isinstance(item, Mapping)]


def integer(value: Any, default: int = 0) -> int:
    number = optional_integer(value)
    return default if number is None else number


def optional_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def number(value: Any) -> float | None:
    """A finite float, or None: JSON has no NaN, and the engine writes null for undefined."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def text(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def texts(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in items(value) if item is not None)


def numbers(value: Any) -> tuple[float, ...]:
    return tuple(n for n in (number(item) for item in items(value)) if n is not None)


def integers(value: Any) -> tuple[int, ...]:
    return tuple(n for n in (optional_integer(item) for item in items(value)) if n is not None)


def counts(value: Any) -> dict[str, int]:
    """``{name: count}``; entries whose count is not a whole number are left out."""
    out = {}
    for key, raw in mapping(value).items():
        count = optional_integer(raw)
        if count is not None:
            out[str(key)] = count
    return out


def named_numbers(value: Any) -> dict[str, float]:
    out = {}
    for key, raw in mapping(value).items():
        figure = number(raw)
        if figure is not None:
            out[str(key)] = figure
    return out


def named_texts(value: Any) -> dict[str, str]:
    return {str(key): str(raw) for key, raw in mapping(value).items() if raw is not None}


def per_segment(value: Any) -> dict[int, float]:
    """``{segment: figure}`` from JSON's text keys (``{"0": 0.91}``) or integer keys alike."""
    out = {}
    for key, raw in mapping(value).items():
        segment, figure = optional_integer(key), number(raw)
        if segment is not None and figure is not None:
            out[segment] = figure
    return dict(sorted(out.items()))


def interval(value: Any) -> tuple[float, float] | None:
    """``[low, high]`` as a pair of finite numbers with low <= high, else None."""
    pair = items(value)
    if len(pair) != 2:
        return None
    low, high = number(pair[0]), number(pair[1])
    if low is None or high is None or low > high:
        return None
    return low, high


def per_segment_intervals(value: Any) -> dict[int, tuple[float, float]]:
    """``{segment: (low, high)}`` from JSON's ``{"0": [0.9, 0.97]}``."""
    out = {}
    for key, raw in mapping(value).items():
        segment, pair = optional_integer(key), interval(raw)
        if segment is not None and pair is not None:
            out[segment] = pair
    return dict(sorted(out.items()))


def frozen_copy(value: Any) -> Any:
    """A deep copy, so a view can never write through to the dict it was read from."""
    return copy.deepcopy(value)


class Stored:
    """A part read from stored JSON that gives back exactly what it was read from.

    Typed fields are a lossy reading (a text number becomes a float, an odd value a default),
    so ``to_dict`` returns a copy of the stored JSON itself, never a re-serialisation of the
    fields: whatever is written back is byte for byte what was stored.
    """

    raw: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(frozen_copy(dict(self.raw)))
