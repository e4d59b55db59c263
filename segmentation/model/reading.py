"""How the model reads an input cell: as a number or as text, and when it counts as missing.

The SQL scorers read cells the same way (a blank or unparsable number is NULL, a blank text is
missing), so a customer gets the same features from a CSV, a DataFrame or a database table.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
import pandas as pd

from ..data.missing import missing_mask
from ..errors import SegmentationError

_SCALARS = (str, int, float, np.number, decimal.Decimal)


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
    filled = (~missing_mask(column)).to_numpy(dtype=bool)  # NA, null, - are missing, not text
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
