"""External validation: do the segments differ on outcomes they were not built from?

For a binary outcome (churned, converted) each segment gets its rate with a Wilson 95% interval,
the association is tested with a chi-square test on the segment × outcome table and its size is
Cramér's V. A text outcome written as yes/no or true/false (a CRM's "Churn: Yes") is read as
1/0. For a numeric outcome (revenue) each segment gets its mean with a t 95% interval,
the test is Kruskal–Wallis (no normality assumed) and the effect size epsilon-squared,
``H (n + 1) / (n² - 1)`` (Tomczak & Tomczak 2014).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..model.reading import coerce_numeric

Z95 = 1.959963984540054
# Words a binary outcome is written in, whatever the case: read as 1 and 0.
YES_WORDS = frozenset({"yes", "y", "true", "t"})
NO_WORDS = frozenset({"no", "n", "false", "f"})


def outcome_values(values: pd.Series) -> np.ndarray:
    """An outcome column as floats: numbers as they are, yes/no and true/false words as 1/0.

    Words count only when every filled cell is one of them, so a column mixing words and
    numbers is read as numbers (its words become missing, as any unreadable cell does).
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64").to_numpy()
    if not pd.api.types.is_numeric_dtype(values):
        words = values.astype("string").str.strip().str.lower()
        filled = words.dropna()
        filled = filled[filled != ""]
        if len(filled) and filled.isin(YES_WORDS | NO_WORDS).all():
            return words.map(lambda w: 1.0 if w in YES_WORDS else 0.0 if w in NO_WORDS else np.nan).to_numpy(
                dtype=float, na_value=np.nan
            )
    return coerce_numeric(values).to_numpy(dtype=float)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (nan, nan) when n = 0."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def mean_interval(values: np.ndarray) -> tuple[float, float]:
    """t-based 95% interval for a mean; (nan, nan) below two values."""
    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
    mean = float(np.mean(values))
    return mean - float(half), mean + float(half)


def is_binary(values: np.ndarray) -> bool:
    present = values[~np.isnan(values)]
    return len(present) > 0 and bool(np.isin(present, (0.0, 1.0)).all())


def outcome_association(labels: np.ndarray, outcome: np.ndarray, *, name: str = "outcome") -> dict[str, Any]:
    """Per-segment outcome figures, a test of association and an effect size (JSON-ready:
    an undefined figure, such as the interval of a one-customer segment, is None, never NaN).

    Rows with a missing outcome or a noise label (``-1``) are left out and counted.
    """
    return _finite(_association(labels, outcome, name))


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _association(labels: np.ndarray, outcome: np.ndarray, name: str) -> dict[str, Any]:
    labels = np.asarray(labels)
    values = np.asarray(outcome, dtype=float)
    keep = ~np.isnan(values) & (labels >= 0)
    labels, values = labels[keep], values[keep]
    segments = np.unique(labels)
    binary = is_binary(values)
    per_segment = []
    for s in segments:
        v = values[labels == s]
        if binary:
            low, high = wilson_interval(int(v.sum()), len(v))
            per_segment.append(
                {"segment": int(s), "n": len(v), "rate": float(v.mean()), "ci_low": low, "ci_high": high}
            )
        else:
            low, high = mean_interval(v)
            per_segment.append(
                {
                    "segment": int(s),
                    "n": len(v),
                    "mean": float(v.mean()),
                    "median": float(np.median(v)),
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    result: dict[str, Any] = {
        "outcome": name,
        "kind": "rate" if binary else "mean",
        "rows_left_out": int((~keep).sum()),
        "segments": per_segment,
        "test": None,
        "statistic": None,
        "p_value": None,
        "effect_size": None,
        "effect_size_name": "cramers_v" if binary else "epsilon_squared",
    }
    if len(segments) < 2 or len(values) < 3:
        return result
    if binary:
        table = np.array([[np.sum((labels == s) & (values == o)) for o in (0.0, 1.0)] for s in segments])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            return result  # everyone has the same outcome: nothing to associate
        chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
        v = np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
        result.update(test="chi_square", statistic=float(chi2), p_value=float(p), effect_size=float(v))
    else:
        groups = [values[labels == s] for s in segments]
        if np.ptp(values) == 0:
            return result
        h, p = stats.kruskal(*groups)
        n = len(values)
        result.update(
            test="kruskal_wallis",
            statistic=float(h),
            p_value=float(p),
            effect_size=float(h * (n + 1) / (n * n - 1)),
        )
    return result
