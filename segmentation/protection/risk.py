"""Re-identification risk: k-anonymity, l-diversity, t-closeness, and generalisation to a target k.

The measures follow the definitions implemented by pycanon (tested against it):

* k-anonymity: the size of the smallest equivalence class (rows sharing every quasi-identifier).
* distinct l-diversity: the smallest number of distinct sensitive values in any class.
* entropy l-diversity: ``floor(exp(min over classes of the Shannon entropy))`` of the sensitive
  values (pycanon truncates to a whole number; the exact value is reported alongside).
* t-closeness: the largest earth mover's distance between a class's sensitive distribution and
  the whole table's: equal distance (half the L1 distance) for text attributes, ordered distance
  (cumulative differences over the sorted values, divided by m - 1) for numeric ones. An
  attribute is numeric when every filled cell is a number, whatever the file's types: a CSV's
  cells arrive as text, a Parquet or XLSX file's as numbers, and both are measured alike.

With several sensitive attributes, l is the minimum and t the maximum over them. Missing
quasi-identifier values form a class of their own (pycanon drops such rows, which would
understate the risk); tests use complete data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from ..model.reading import coerce_numeric

MISSING = "(missing)"
SUPPRESSED = "*"
# Column names that usually hold a quasi-identifier (lower-case substrings).
QUASI_IDENTIFIER_HINTS = (
    "age",
    "birth",
    "dob",
    "postcode",
    "postal",
    "zip",
    "gender",
    "sex",
    "ethnic",
    "race",
    "marital",
    "occupation",
    "job",
    "city",
    "town",
    "suburb",
    "region",
    "province",
    "nationality",
    "language",
    "religion",
)


def suggest_quasi_identifiers(columns: Sequence[str]) -> list[str]:
    """Columns whose names suggest a quasi-identifier (age, birth date, postcode, gender...)."""
    suggested = []
    for column in columns:
        name = column.lower().replace("-", "_").replace(" ", "_")
        tokens = set(name.split("_"))
        if any(h in tokens or (len(h) > 3 and h in name) for h in QUASI_IDENTIFIER_HINTS):
            suggested.append(column)
    return suggested


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SegmentationError(
            f"no column(s) {', '.join(missing)} to use as {what}; the columns are {', '.join(frame.columns)}"
        )


def equivalence_classes(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> np.ndarray:
    """The equivalence class number of every row (rows sharing all quasi-identifier values)."""
    _check_columns(frame, quasi_identifiers, "quasi-identifiers")
    if not quasi_identifiers:
        raise SegmentationError("name at least one quasi-identifier")
    return classes_from_codes(
        [pd.factorize(frame[c].astype("string").fillna(MISSING))[0] for c in quasi_identifiers]
    )


def classes_from_codes(codes: Sequence[np.ndarray]) -> np.ndarray:
    """Class numbers from per-column integer codes (0..n-1): rows with equal codes share a class.

    The codes are folded into one integer key per row and factorised again, which hashes
    integers instead of grouping on strings. Class numbers are arbitrary labels.
    """
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column in codes:
        key = pd.factorize(key * (int(column.max()) + 2) + column)[0].astype(np.int64)
    return key


def k_anonymity(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The size of the smallest equivalence class."""
    return int(np.bincount(equivalence_classes(frame, quasi_identifiers)).min())


def class_size_distribution(frame: pd.DataFrame, quasi_identifiers: Sequence[str]) -> dict[int, int]:
    """How many equivalence classes there are of each size: ``{size: number of classes}``."""
    sizes = np.bincount(equivalence_classes(frame, quasi_identifiers))
    values, counts = np.unique(sizes, return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _class_value_counts(classes: np.ndarray, values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Counts of each sensitive value (columns, in sorted value order) in each class (rows)."""
    # np.unique sorts, so columns come in sorted value order (the numeric order for numbers).
    uniques, value_codes = np.unique(values.to_numpy(), return_inverse=True)
    n_classes, m = int(classes.max()) + 1, len(uniques)
    counts = np.bincount(classes * m + value_codes.reshape(-1), minlength=n_classes * m)
    return counts.reshape(n_classes, m).astype(float), list(uniques)


def _sensitive(frame: pd.DataFrame, column: str) -> pd.Series:
    """The values compared: numbers (missing ones last) for a numeric attribute, else text."""
    series = frame[column]
    if _is_numeric(series):
        return coerce_numeric(series).fillna(np.inf)
    if series.isna().any():
        series = series.astype("string").fillna(MISSING)
    return series


def _is_numeric(series: pd.Series) -> bool:
    """Whether every filled cell is a number, by the values and not the file's types, so that an
    income read as text from a CSV and as integers from a Parquet or XLSX file is measured alike
    (in numeric order, with the ordered distance for t)."""
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    filled = series.dropna()
    return bool(len(filled)) and bool(coerce_numeric(filled).notna().all())


def l_diversity(frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str]) -> int:
    """Distinct l-diversity: the fewest distinct sensitive values in any equivalence class."""
    _check_columns(frame, sensitive, "sensitive attributes")
    classes = equivalence_classes(frame, quasi_identifiers)
    result = []
    for column in sensitive:
        counts, _ = _class_value_counts(classes, _sensitive(frame, column))
        result.append(int((counts > 0).sum(axis=1).min()))
    return min(result)


def entropy_l_diversity_exact(
    frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str]
) -> float:
    """``exp`` of the smallest Shannon entropy (natural log) of the sensitive values in a class."""
    _check_columns(frame, sensitive, "sensitive attributes")
    classes = equivalence_classes(frame, quasi_identifiers)
    entropies = []
    for column in sensitive:
        counts, _ = _class_value_counts(classes, _sensitive(frame, column))
        p = counts / counts.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p > 0, p * np.log(p), 0.0)
        entropies.append(float((-terms.sum(axis=1)).min()))
    return float(math.exp(min(entropies)))


def entropy_l_diversity(
    frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str]
) -> int:
    """Entropy l-diversity as pycanon reports it: the exact value truncated to a whole number."""
    return math.floor(entropy_l_diversity_exact(frame, quasi_identifiers, sensitive))


def t_closeness(frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str]) -> float:
    """The largest distance between a class's sensitive distribution and the whole table's."""
    _check_columns(frame, sensitive, "sensitive attributes")
    classes = equivalence_classes(frame, quasi_identifiers)
    result = []
    for column in sensitive:
        values = _sensitive(frame, column)
        counts, _ = _class_value_counts(classes, values)  # columns are in sorted value order
        result.append(float(class_distances(counts, ordered=_is_numeric(frame[column])).max()))
    return max(result)


def class_distances(counts: np.ndarray, *, ordered: bool) -> np.ndarray:
    """Each class's earth mover's distance to the distribution of all the rows counted.

    ``counts`` holds one row per class and one column per sensitive value (in sorted value order);
    ``ordered`` picks the ordered distance (numbers) over the equal distance (text).
    """
    q = counts / counts.sum(axis=1, keepdims=True)
    p = counts.sum(axis=0) / counts.sum()
    r = q - p
    m = r.shape[1]
    if m == 1:
        return np.zeros(len(counts))
    if ordered:
        return np.abs(np.cumsum(r, axis=1)).sum(axis=1) / (m - 1)
    return 0.5 * np.abs(r).sum(axis=1)


def sensitive_values(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, int, bool]:
    """A sensitive column as value codes (in sorted value order), their number, and whether ordered."""
    _check_columns(frame, [column], "sensitive attributes")
    uniques, codes = np.unique(_sensitive(frame, column).to_numpy(), return_inverse=True)
    return codes.reshape(-1).astype(np.int64), len(uniques), _is_numeric(frame[column])


@dataclass
class PrivacyReport:
    """Every measure of re-identification risk for one choice of quasi-identifiers."""

    rows: int
    quasi_identifiers: list[str]
    sensitive: list[str]
    k_anonymity: int
    equivalence_classes: int
    class_size_distribution: dict[int, int]
    rows_in_classes_below: dict[str, int]
    l_diversity: int | None = None
    entropy_l_diversity: int | None = None
    entropy_l_diversity_exact: float | None = None
    t_closeness: float | None = None
    generalisation: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["class_size_distribution"] = {str(k): v for k, v in self.class_size_distribution.items()}
        return data


def privacy_report(
    frame: pd.DataFrame, quasi_identifiers: Sequence[str], sensitive: Sequence[str] = ()
) -> PrivacyReport:
    """Measure k, l (distinct and entropy) and t for a table."""
    distribution = class_size_distribution(frame, quasi_identifiers)
    below = {str(k): sum(size * n for size, n in distribution.items() if size < k) for k in (2, 3, 5, 10)}
    report = PrivacyReport(
        rows=len(frame),
        quasi_identifiers=list(quasi_identifiers),
        sensitive=list(sensitive),
        k_anonymity=min(distribution),
        equivalence_classes=sum(distribution.values()),
        class_size_distribution=distribution,
        rows_in_classes_below=below,
    )
    if sensitive:
        report.l_diversity = l_diversity(frame, quasi_identifiers, sensitive)
        report.entropy_l_diversity_exact = entropy_l_diversity_exact(frame, quasi_identifiers, sensitive)
        report.entropy_l_diversity = entropy_l_diversity(frame, quasi_identifiers, sensitive)
        report.t_closeness = t_closeness(frame, quasi_identifiers, sensitive)
    return report
