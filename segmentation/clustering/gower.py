"""Gower's distance for tables that mix numbers and categories.

Gower (1971): the distance between two rows is the mean, over the features both rows have, of
``|a - b| / range`` for a numeric feature and ``0`` or ``1`` (equal or not) for a categorical one.
Missing values (NaN) drop that feature from the pair's mean, as Gower defined it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SegmentationError


def numeric_ranges(numeric: np.ndarray) -> np.ndarray:
    """The range of each numeric column, ignoring NaN; a constant column gets range 1 (it adds 0)."""
    if numeric.shape[1] == 0:
        return np.ones(0)
    with np.errstate(all="ignore"):
        spread = np.nanmax(numeric, axis=0) - np.nanmin(numeric, axis=0)
    return np.where(np.isfinite(spread) & (spread > 0), spread, 1.0)


def gower_distances(
    numeric: np.ndarray,
    categorical: np.ndarray,
    other_numeric: np.ndarray | None = None,
    other_categorical: np.ndarray | None = None,
    *,
    ranges: np.ndarray | None = None,
) -> np.ndarray:
    """Gower distance between each row of the first table and each row of the second.

    ``numeric`` is ``(n, p)`` floats (NaN = missing), ``categorical`` is ``(n, q)`` integer-like
    codes (NaN or negative = missing). Without ``other_*`` the result is the square ``(n, n)``
    matrix of the table with itself. Work is one vectorised pass per feature, so memory stays at
    two ``(n, m)`` arrays whatever the number of features.
    """
    numeric = np.asarray(numeric, dtype=float).reshape(len(numeric), -1)
    categorical = np.asarray(categorical, dtype=float).reshape(len(categorical), -1)
    other_numeric = numeric if other_numeric is None else np.asarray(other_numeric, dtype=float)
    other_categorical = (
        categorical if other_categorical is None else np.asarray(other_categorical, dtype=float)
    )
    other_numeric = other_numeric.reshape(len(other_numeric), -1)
    other_categorical = other_categorical.reshape(len(other_categorical), -1)
    if numeric.shape[1] + categorical.shape[1] == 0:
        raise SegmentationError("Gower distance needs at least one numeric or categorical column")
    ranges = numeric_ranges(numeric) if ranges is None else np.asarray(ranges, dtype=float)
    n, m = len(numeric), len(other_numeric)
    total = np.zeros((n, m))
    counted = np.zeros((n, m))
    for j in range(numeric.shape[1]):
        a, b = numeric[:, j][:, None], other_numeric[:, j][None, :]
        diff = np.abs(a - b) / ranges[j]
        present = ~np.isnan(diff)
        total += np.where(present, np.minimum(diff, 1.0), 0.0)
        counted += present
    for j in range(categorical.shape[1]):
        a, b = categorical[:, j][:, None], other_categorical[:, j][None, :]
        present = (a >= 0) & (b >= 0)  # NaN compares False, so it counts as missing too
        total += present & (a != b)
        counted += present
    with np.errstate(invalid="ignore", divide="ignore"):
        # A pair with no feature in common has an unknown distance; 1 (as far apart as possible)
        # keeps it from joining anything by accident.
        return np.where(counted > 0, total / np.maximum(counted, 1), 1.0)


def encode_categories(categorical: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Integer codes per column (None, NaN, NA and '' -> -1) and the levels behind each code, sorted."""
    categorical = np.asarray(categorical, dtype=object).reshape(len(categorical), -1)
    codes = np.empty(categorical.shape, dtype=float)
    levels = []
    for j in range(categorical.shape[1]):
        column = categorical[:, j]
        # '' is missing too, as the model's preprocessor reads it (a blank cell, not a level).
        missing = np.array([bool(pd.isna(v)) or (isinstance(v, str) and v == "") for v in column], dtype=bool)
        text = np.where(missing, "", column.astype(str))
        uniques, inverse = np.unique(text[~missing], return_inverse=True)
        codes[~missing, j] = inverse
        codes[missing, j] = -1
        levels.append(uniques)
    return codes, levels
