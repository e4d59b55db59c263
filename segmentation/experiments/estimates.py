"""The effect of a treatment arm against the control in one group of customers.

Each test has a vectorised form on summary statistics (``*_arrays``: NumPy arrays of means,
variances and counts, one element an experiment) that the scalar functions call on one sample,
so a simulation of thousands of experiments runs the shipped formulas:

- ``welch_t``: the difference in means, Welch's t-test with Satterthwaite's degrees of freedom
  and its t interval — statsmodels' ``CompareMeans.ttest_ind(usevar="unequal")`` and
  ``tconfint_diff(usevar="unequal")``.
- ``two_proportion_z``: the difference in proportions; the z-test uses the pooled proportion
  under the null (statsmodels' ``proportions_ztest``), the interval the unpooled Wald standard
  error (``confint_proportions_2indep(compare="diff", method="wald")``).
- ``relative_lift``: r = m_t / m_c - 1. By the delta method, with independent arms and
  V_t, V_c the variances of the two means (s²/n, or p(1-p)/n for a proportion),
  Var(r) ≈ V_t / m_c² + m_t² V_c / m_c⁴ = (r + 1)² (V_t / m_t² + V_c / m_c²);
  the interval is r ± z_{1-α/2} se(r) and the p-value that of z = r / se(r). Undefined when the
  control mean is 0.

:func:`post_stratified` and :func:`cochran_q` combine the segments' effects (their formulas are
in :mod:`.analysis`). Binary outcomes are 0/1, True/False or yes/no / true/false text (any
case); :func:`binary_values` maps them and reports the mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SegmentationError

WELCH = "welch_t"
PROPORTIONS = "two_proportion_z"
LIFT = "relative_lift"
CUPED = "cuped_welch_t"
POST_STRATIFIED = "post_stratified"

BINARY_WORDS = {"true": 1, "false": 0, "yes": 1, "no": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}


@dataclass(frozen=True)
class Tested:
    """Vectorised results, one element an experiment; ``se`` is the standard error of the estimate."""

    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


@dataclass(frozen=True)
class Estimate:
    """One effect; ``reason`` says why it is missing (estimate NaN) when it could not be computed."""

    method: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    n_control: int
    n_treatment: int
    reason: str = ""

    @classmethod
    def missing(cls, method: str, n_control: int, n_treatment: int, reason: str) -> Estimate:
        nan = float("nan")
        return cls(method, nan, nan, nan, nan, nan, n_control, n_treatment, reason)


def welch_arrays(mean_t, var_t, n_t, mean_c, var_c, n_c, alpha: float) -> Tested:
    """Welch's test of mean_t - mean_c; ``var_*`` are sample variances (ddof=1)."""
    mean_t, var_t, n_t, mean_c, var_c, n_c = (
        np.asarray(a, dtype=float) for a in (mean_t, var_t, n_t, mean_c, var_c, n_c)
    )
    a, b = var_t / n_t, var_c / n_c
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (a + b) ** 2 / (a**2 / (n_t - 1) + b**2 / (n_c - 1))
        diff = mean_t - mean_c
        t = diff / se
        p = 2 * stats.t.sf(np.abs(t), df)
        half = stats.t.ppf(1 - alpha / 2, df) * se
    return Tested(diff, se, t, p, diff - half, diff + half)


def proportions_arrays(x_t, n_t, x_c, n_c, alpha: float) -> Tested:
    """The pooled two-proportion z-test of p_t - p_c, with the unpooled Wald interval."""
    x_t, n_t, x_c, n_c = (np.asarray(a, dtype=float) for a in (x_t, n_t, x_c, n_c))
    p_t, p_c = x_t / n_t, x_c / n_c
    pooled = (x_t + x_c) / (n_t + n_c)
    diff = p_t - p_c
    se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    se = np.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / se0
        p = 2 * stats.norm.sf(np.abs(z))
    half = stats.norm.isf(alpha / 2) * se
    return Tested(diff, se, z, p, diff - half, diff + half)


def lift_arrays(mean_t, var_mean_t, mean_c, var_mean_c, alpha: float) -> Tested:
    """r = mean_t / mean_c - 1 by the delta method; ``var_mean_*`` are the variances of the means."""
    mean_t, var_mean_t, mean_c, var_mean_c = (
        np.asarray(a, dtype=float) for a in (mean_t, var_mean_t, mean_c, var_mean_c)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        r = mean_t / mean_c - 1
        se = np.sqrt(var_mean_t / mean_c**2 + mean_t**2 * var_mean_c / mean_c**4)
        z = r / se
        p = 2 * stats.norm.sf(np.abs(z))
    half = stats.norm.isf(alpha / 2) * se
    return Tested(r, se, z, p, r - half, r + half)


def _estimate(method: str, tested: Tested, n_control: int, n_treatment: int) -> Estimate:
    return Estimate(
        method,
        float(tested.estimate),
        float(tested.ci_low),
        float(tested.ci_high),
        float(tested.p_value),
        float(tested.se),
        n_control,
        n_treatment,
    )


def _too_few(method: str, treatment: np.ndarray, control: np.ndarray) -> Estimate | None:
    n_t, n_c = len(treatment), len(control)
    if min(n_t, n_c) < 2:
        arm = "control" if n_c < 2 else "treatment"
        return Estimate.missing(method, n_c, n_t, f"fewer than 2 customers with an outcome in the {arm} arm")
    return None


def welch(treatment: np.ndarray, control: np.ndarray, alpha: float, *, method: str = WELCH) -> Estimate:
    if (short := _too_few(method, treatment, control)) is not None:
        return short
    var_t, var_c = np.var(treatment, ddof=1), np.var(control, ddof=1)
    if var_t == 0 and var_c == 0:
        return Estimate.missing(
            method, len(control), len(treatment), "the outcome does not vary in either arm"
        )
    tested = welch_arrays(treatment.mean(), var_t, len(treatment), control.mean(), var_c, len(control), alpha)
    return _estimate(method, tested, len(control), len(treatment))


def two_proportions(treatment: np.ndarray, control: np.ndarray, alpha: float) -> Estimate:
    if (short := _too_few(PROPORTIONS, treatment, control)) is not None:
        return short
    x_t, x_c = treatment.sum(), control.sum()
    if x_t + x_c in (0, len(treatment) + len(control)):
        value = "1" if x_t else "0"
        return Estimate.missing(
            PROPORTIONS, len(control), len(treatment), f"every customer's outcome is {value}"
        )
    tested = proportions_arrays(x_t, len(treatment), x_c, len(control), alpha)
    return _estimate(PROPORTIONS, tested, len(control), len(treatment))


def relative_lift(treatment: np.ndarray, control: np.ndarray, alpha: float, *, binary: bool) -> Estimate:
    if (short := _too_few(LIFT, treatment, control)) is not None:
        return short
    m_t, m_c = treatment.mean(), control.mean()
    if m_c == 0:
        return Estimate.missing(LIFT, len(control), len(treatment), "the control mean is 0")
    if binary:
        v_t, v_c = m_t * (1 - m_t) / len(treatment), m_c * (1 - m_c) / len(control)
    else:
        v_t, v_c = np.var(treatment, ddof=1) / len(treatment), np.var(control, ddof=1) / len(control)
    if v_t == 0 and v_c == 0:
        return Estimate.missing(LIFT, len(control), len(treatment), "the outcome does not vary in either arm")
    return _estimate(LIFT, lift_arrays(m_t, v_t, m_c, v_c, alpha), len(control), len(treatment))


def post_stratified(per_segment: list[tuple[int, Estimate, int]], alpha: float) -> tuple[Estimate, str]:
    """Σ w_s θ_s with w_s = n_s / Σ n (segments with an estimate), variance Σ w_s² se_s²."""
    finite = [bool(np.isfinite(e.estimate) and np.isfinite(e.se)) for _, e, _ in per_segment]
    usable = [item for item, ok in zip(per_segment, finite, strict=True) if ok]
    left_out = [s for (s, _, _), ok in zip(per_segment, finite, strict=True) if not ok]
    n_c = sum(e.n_control for _, e, _ in per_segment)
    n_t = sum(e.n_treatment for _, e, _ in per_segment)
    if not usable:
        return Estimate.missing(
            POST_STRATIFIED, n_c, n_t, "no segment has an estimate"
        ), "no segment has an estimate"
    sizes = np.array([n for _, _, n in usable], dtype=float)
    w = sizes / sizes.sum()
    theta = np.array([e.estimate for _, e, _ in usable])
    se = float(np.sqrt(np.sum(w**2 * np.array([e.se for _, e, _ in usable]) ** 2)))
    estimate = float(np.sum(w * theta))
    z = stats.norm.isf(alpha / 2)
    p = float(2 * stats.norm.sf(abs(estimate / se))) if se > 0 else float("nan")
    note = ""
    if left_out:
        note = (
            f"segments {', '.join(map(str, left_out))} have no estimate and are left out; "
            "the weights are renormalised over the others"
        )
    return Estimate(POST_STRATIFIED, estimate, estimate - z * se, estimate + z * se, p, se, n_c, n_t), note


def cochran_q(effects: np.ndarray, variances: np.ndarray) -> dict[str, float | int | None]:
    """Cochran's Q over the segments with a finite effect and a positive variance, and I²."""
    ok = np.isfinite(effects) & np.isfinite(variances) & (variances > 0)
    theta, w = effects[ok], 1 / variances[ok]
    df = int(ok.sum()) - 1
    if df < 1:
        return {"q": None, "df": max(df, 0), "p_value": None, "i2": None, "segments": int(ok.sum())}
    mean = np.sum(w * theta) / np.sum(w)
    q = float(np.sum(w * (theta - mean) ** 2))
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return {"q": q, "df": df, "p_value": float(stats.chi2.sf(q, df)), "i2": i2, "segments": int(ok.sum())}


def binary_values(
    metric: str, values: pd.Series, *, declared: str | None = None
) -> tuple[np.ndarray, dict | None]:
    """The metric's values as floats (NaN where missing) and, when it is binary, the mapping of
    its values (as text) to 0 and 1. ``declared`` is the design's kind for the metric, when it
    has one: "binary" requires a mapping, "continuous" requires numbers."""
    present = values[values.notna() & (values.astype(str).str.strip() != "")]
    if present.empty:
        raise SegmentationError(
            f"The metric {metric!r} has no values: every customer's outcome is missing.", key="metrics"
        )
    flags = present.map(lambda v: isinstance(v, bool | np.bool_))
    if pd.api.types.is_bool_dtype(present) or (len(present) > 0 and bool(flags.all())):
        mapping = {str(v): int(bool(v)) for v in sorted(set(present))}
        return values.map(lambda v: float(bool(v)) if pd.notna(v) else np.nan).to_numpy(float), mapping
    if not pd.api.types.is_numeric_dtype(present):
        as_numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
        words = present.astype(str).str.strip().str.lower()
        if as_numbers.notna().all() and not words.isin(BINARY_WORDS).all():
            values = pd.to_numeric(values.where(values.astype(str).str.strip() != ""), errors="coerce")
            present = values.dropna()
    if pd.api.types.is_numeric_dtype(present):
        numbers = values.to_numpy(dtype=float)
        seen = set(np.unique(numbers[~np.isnan(numbers)]).tolist())
        if declared == "continuous" or not seen <= {0.0, 1.0}:
            if declared == "binary":
                shown = ", ".join(repr(v) for v in sorted(seen - {0.0, 1.0})[:5])
                raise SegmentationError(
                    f"The metric {metric!r} is binary in the design but has the values {shown}: "
                    "a binary outcome is 0/1, True/False or yes/no.",
                    key="metrics",
                )
            return numbers, None
        return numbers, {str(int(v)): int(v) for v in sorted(seen)}
    words = present.astype(str).str.strip()
    unknown = sorted(set(words[~words.str.lower().isin(BINARY_WORDS)]))
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5]) + (
            f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        )
        raise SegmentationError(
            f"The metric {metric!r} has the values {shown}: an outcome is a number, or binary as 1/0, "
            "True/False, yes/no or true/false (any case).",
            key="metrics",
        )
    if declared == "continuous":
        raise SegmentationError(
            f"The metric {metric!r} is continuous in the design but its values are yes/no words.",
            key="metrics",
        )
    mapping = {w: BINARY_WORDS[w.lower()] for w in sorted(set(words))}
    text = values.astype(str).str.strip()
    numbers = text.map(lambda w: float(mapping[w]) if w in mapping else np.nan)
    return numbers.where(values.notna(), np.nan).to_numpy(float), mapping
