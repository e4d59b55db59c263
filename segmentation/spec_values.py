"""Readers of one spec value each: the JSON type checked, a default where the key is absent, and
a :class:`SpecError` that names the key when the value is wrong."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from .errors import SpecError

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def text_value(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"'{key}' must be a non-empty text value")
    return value


def optional_text(data: Mapping[str, Any], key: str) -> str | None:
    if data.get(key) is None:
        return None
    return text_value(data, key)


def column_names(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise SpecError(f"'{key}' must be a list of column names")
    if len(set(value)) != len(value):
        raise SpecError(f"'{key}' names a column twice")
    return tuple(value)


def registry_names(data: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    if data.get(key) is None:
        return None
    value = data[key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError(f"'{key}' must be a non-empty list of names from: {', '.join(allowed)}")
    wrong = [v for v in value if v not in allowed]
    if wrong:
        raise SpecError(f"'{key}' has unknown name(s) {', '.join(wrong)}; choose from {', '.join(allowed)}")
    if len(set(value)) != len(value):
        raise SpecError(f"'{key}' names an entry twice")
    return tuple(value)


def choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = data.get(key, default)
    if value not in allowed:
        raise SpecError(f"'{key}' must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def boolean(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(f"'{key}' must be true or false, got {value!r}")
    return value


def iso_date(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and ISO_DATE.match(value):
        try:
            dt.date.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise SpecError(f"'{key}' must be a date written YYYY-MM-DD, got {value!r}")


def integer(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    # JSON has no separate integer type and bool is an int subclass in Python: refuse both
    # 3.5 and true rather than truncating them.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"'{key}' must be a whole number, got {value!r}")
    return value


def integer_between(
    data: Mapping[str, Any], key: str, default: int, low: int, high: int, *, unit: str
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"'{key}' must be a whole number of {unit} from {low:,} to {high:,}, got {value!r}")
    return value


def rate_below_one(data: Mapping[str, Any], key: str, default: float) -> float:
    """An annual rate in [0, 1): 0.1 is 10% a year."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise SpecError(
            f"'{key}' must be an annual rate from 0 up to (not including) 1, such as 0.1 for 10%, got {value!r}"
        )
    return float(value)
