"""The words client systems write where a value is missing, read the same everywhere.

Exports from R, Excel, databases and hand-kept sheets write a missing customer id or number as
text: ``NA``, ``N/A``, ``null``, ``None``, ``-``, ``nan``, ``#N/A`` or a blank cell. Read as data,
``NA`` in an id column becomes one customer holding every anonymous purchase (a retail log's
5,078 such rows became one "customer" with 5,022 purchases, a segment of its own). So every part
that reads ids or numbers (:func:`segmentation.data.io.id_text`, the log's cleaning, the pipeline's
data-quality counts, the upload's profile, the SQL features) treats these cells as missing, and
counts them where it counts blanks.

Matching is case-insensitive and ignores surrounding spaces. Category and free-text columns keep
their words: there "None" can be an answer (allergies: None).
"""

from __future__ import annotations

import pandas as pd

MISSING_TOKENS = frozenset({"", "na", "n/a", "null", "none", "nan", "-", "#n/a"})


def is_missing_token(value: object) -> bool:
    """Whether one cell is missing: None, NaN/NA, or text that is one of :data:`MISSING_TOKENS`."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, str):
        return value.strip().lower() in MISSING_TOKENS
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def missing_mask(cells: pd.Series) -> pd.Series:
    """A boolean Series: True where a cell is missing (NA, blank, or a missing token)."""
    text = cells.astype("string").str.strip().str.lower()
    return (text.isna() | text.isin(MISSING_TOKENS)).fillna(True).astype(bool)


def without_missing_tokens(cells: pd.Series) -> pd.Series:
    """``cells`` with every missing token (and blank) replaced by ``pd.NA``; other cells unchanged."""
    if pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_datetime64_any_dtype(cells):
        return cells
    return cells.mask(missing_mask(cells), pd.NA)


BLANK_WORD = "(blank)"


def missing_words(cells: pd.Series) -> dict[str, int]:
    """How the missing cells of ``cells`` were written, most frequent first: ``{"NA": 5078,
    "(blank)": 3}``. Words are trimmed and kept as written; a blank or empty cell is ``(blank)``.

    Callers pass only the cells already found missing (the rows dropped for want of an id), so
    this costs a pass over those rows, not over the whole log.
    """
    text = cells.astype("string").str.strip().fillna("")
    words = text.mask(text == "", BLANK_WORD)
    return {str(word): int(n) for word, n in words.value_counts(sort=True).items()}
