"""External validation: do the segments differ on outcomes they were not built from?

For a binary outcome (churned, converted) each segment gets its rate with a Wilson 95% interval,
the association is tested with a chi-square test on the segment × outcome table and its size is
Cramér's V. A text outcome written as yes/no or true/false (a CRM's "Churn: Yes") is read as
1/0. For a numeric outcome (revenue) each segment gets its mean with a t 95% interval,
the test is Kruskal–Wallis (no normality assumed) and the effect size epsilon-squared,
``H (n + 1) / (n² - 1)`` (Tomczak & Tomczak 2014).

A sparse table (more than a fifth of its expected counts below 5, Cochran's rule) makes the
chi-square approximation unreliable; its p-value is then a seeded Monte-Carlo permutation test
of the same statistic. Each segment is also tested against the rest of the customers (Fisher's
exact test, or Mann–Whitney for a numeric outcome; the rest's rate or mean is kept beside it),
and :func:`adjust_for_multiple_tests` adjusts every p-value of a run for multiple testing with
Benjamini–Hochberg: across outcomes for the overall tests, across outcomes and segments for the
per-segment ones. The run's outcomes are its declared outcome columns and, for a transaction log
that runs past ``as_of``, the out-of-time outcomes (:mod:`segmentation.explain.out_of_time`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..model.reading import coerce_numeric

Z95 = 1.959963984540054
# Cochran's rule: the chi-square approximation holds while no more than this share of expected
# counts is below 5.
SPARSE_EXPECTED = 5
SPARSE_SHARE = 0.2
PERMUTATIONS = 1999
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


def outcome_mapping(values: pd.Series) -> dict[str, float] | None:
    """How the words of a yes/no outcome were read (``{"No": 0.0, "Yes": 1.0}``); None for numbers."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return None
    words = values.astype("string").str.strip()
    filled = words.dropna()
    filled = filled[filled != ""]
    lowered = filled.str.lower()
    if not len(filled) or not lowered.isin(YES_WORDS | NO_WORDS).all():
        return None
    return {str(w): 1.0 if w.lower() in YES_WORDS else 0.0 for w in sorted(set(filled))}


def outcome_associations(
    labels: np.ndarray, outcomes: pd.DataFrame, *, seed: int = 0, adjust: bool = True
) -> list[dict[str, Any]]:
    """:func:`outcome_association` for every outcome column, with the word mapping each used and
    Benjamini–Hochberg adjusted p-values (``p_adjusted``) across these tests; with ``adjust``
    false the caller adjusts them together with its other tests (:func:`adjust_for_multiple_tests`)."""
    results = []
    for column in outcomes.columns:
        cells = outcomes[column].reset_index(drop=True)
        result = outcome_association(labels, outcome_values(cells), name=str(column), seed=seed)
        result["mapping"] = outcome_mapping(cells)
        results.append(result)
    if adjust:
        adjust_for_multiple_tests(results)
    return results


def adjust_for_multiple_tests(results: list[dict[str, Any]]) -> None:
    """Set ``p_adjusted`` (Benjamini–Hochberg) on every test of ``results``, in place: the
    overall tests form one family, the per-segment tests (segment against the rest) another."""
    _adjust([r for r in results if r["p_value"] is not None])
    _adjust([s for r in results for s in r["segments"] if s.get("p_value") is not None])


def _adjust(tests: list[dict[str, Any]]) -> None:
    if not tests:
        return
    adjusted = stats.false_discovery_control([t["p_value"] for t in tests], method="bh")
    for test, p in zip(tests, np.atleast_1d(adjusted), strict=True):
        test["p_adjusted"] = float(p)


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


def outcome_association(
    labels: np.ndarray, outcome: np.ndarray, *, name: str = "outcome", seed: int = 0
) -> dict[str, Any]:
    """Per-segment outcome figures, a test of association and an effect size (JSON-ready:
    an undefined figure, such as the interval of a one-customer segment, is None, never NaN).

    Rows with a missing outcome or a noise label (``-1``) are left out and counted.
    """
    return _finite(_association(labels, outcome, name, seed))


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _association(labels: np.ndarray, outcome: np.ndarray, name: str, seed: int) -> dict[str, Any]:
    labels = np.asarray(labels)
    values = np.asarray(outcome, dtype=float)
    keep = ~np.isnan(values) & (labels >= 0)
    labels, values = labels[keep], values[keep]
    segments = np.unique(labels)
    binary = is_binary(values)
    per_segment: list[dict[str, Any]] = []
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
        "p_value_method": None,
    }
    if len(segments) < 2 or len(values) < 3:
        return result
    if np.ptp(values) > 0:
        for entry in per_segment:
            inside = labels == entry["segment"]
            entry["p_value"] = _segment_against_rest(inside, values, binary)
            entry["rest_n"] = int((~inside).sum())
            entry["rest_rate" if binary else "rest_mean"] = (
                float(values[~inside].mean()) if (~inside).any() else float("nan")
            )
    if binary:
        table = np.array([[np.sum((labels == s) & (values == o)) for o in (0.0, 1.0)] for s in segments])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            return result  # everyone has the same outcome: nothing to associate
        chi2, p, _, expected = stats.chi2_contingency(table, correction=False)
        v = np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
        method = "asymptotic"
        if np.mean(expected < SPARSE_EXPECTED) > SPARSE_SHARE:
            p, method = _permutation_p(labels, values, float(chi2), seed), f"monte_carlo_{PERMUTATIONS}"
        result.update(
            test="chi_square",
            statistic=float(chi2),
            p_value=float(p),
            effect_size=float(v),
            p_value_method=method,
        )
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
            p_value_method="asymptotic",
        )
    return result


def _segment_against_rest(inside: np.ndarray, values: np.ndarray, binary: bool) -> float | None:
    if inside.all() or not inside.any():
        return None
    if binary:
        table = [[int(np.sum(values[mask] == o)) for o in (0.0, 1.0)] for mask in (inside, ~inside)]
        return float(stats.fisher_exact(table).pvalue)
    return float(stats.mannwhitneyu(values[inside], values[~inside]).pvalue)


def _chi_square(codes: np.ndarray, n_segments: int, values: np.ndarray) -> float:
    observed = np.bincount(codes * 2 + values.astype(int), minlength=2 * n_segments).reshape(n_segments, 2)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
    return float(cells.sum())


def _permutation_p(labels: np.ndarray, values: np.ndarray, observed: float, seed: int) -> float:
    """The share of outcome shuffles whose chi-square reaches the observed one, (b + 1) / (R + 1)."""
    _, codes = np.unique(labels, return_inverse=True)
    n_segments = int(codes.max()) + 1
    rng = np.random.default_rng(seed)
    reached = sum(
        _chi_square(codes, n_segments, rng.permutation(values)) >= observed - 1e-9
        for _ in range(PERMUTATIONS)
    )
    return (reached + 1) / (PERMUTATIONS + 1)
