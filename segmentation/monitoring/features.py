"""Drift of one feature between the reference and the current customers.

The test is chosen by the feature's type and the reference's size, as Evidently chooses by default:

- at most ``SMALL_REFERENCE`` (1,000) reference rows: a numeric feature with more than five
  distinct values gets the two-sample Kolmogorov–Smirnov test; a feature with three to five values
  (or text) the two-sample χ² test on the counts of both (see :func:`chi_square`); a
  feature with two values the two-proportion z-test;
- above it, where every test rejects trivial differences: the Wasserstein distance divided by the
  reference's standard deviation for numeric features, the Jensen–Shannon distance between the
  shares for the others.

Every feature also gets the population stability index (PSI): numeric features binned at the
reference's deciles (ten bins, the outer ones open), others by value; an empty bin counts as a
share of ``EMPTY_SHARE`` so that the logarithm is defined. Missing values are left out of the
tests and reported as shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon
from statsmodels.stats.proportion import proportions_ztest

SMALL_REFERENCE = 1_000
DISCRETE_VALUES = 5
PSI_BINS = 10
EMPTY_SHARE = 1e-4
MIN_SPREAD = 1e-3


@dataclass(frozen=True)
class FeatureTest:
    """One feature's comparison. ``statistic`` is the test's own (KS D, χ², z) or the distance;
    ``p_value`` is None for a distance."""

    feature: str
    kind: str  # numeric | categorical | binary
    test: str  # ks | chi_square | z_test | wasserstein_normed | jensen_shannon
    statistic: float | None
    p_value: float | None
    psi: float | None
    missing_reference: float
    missing_current: float


def kind_of(reference: pd.Series, *, text: bool) -> str:
    values = reference.dropna().nunique()
    if values <= 2:
        return "binary"
    return "categorical" if text or values <= DISCRETE_VALUES else "numeric"


def _shares(
    reference: pd.Series, current: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Counts and shares of each value seen in either sample, values in a stable order."""
    levels = sorted(set(reference.astype(str)) | set(current.astype(str)))
    ref = reference.astype(str).value_counts().reindex(levels, fill_value=0).to_numpy(dtype=float)
    cur = current.astype(str).value_counts().reindex(levels, fill_value=0).to_numpy(dtype=float)
    return ref, cur, ref / ref.sum(), cur / cur.sum()


def psi_from_shares(reference: np.ndarray, current: np.ndarray) -> float:
    """Σ (current − reference) · ln(current / reference), empty bins at ``EMPTY_SHARE``."""
    ref = np.maximum(np.asarray(reference, dtype=float), EMPTY_SHARE)
    cur = np.maximum(np.asarray(current, dtype=float), EMPTY_SHARE)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def decile_shares(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of both samples in bins cut at the reference's deciles (repeated edges merged)."""
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
    ref = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=len(inner) + 1)
    cur = np.bincount(np.searchsorted(inner, current, side="right"), minlength=len(inner) + 1)
    return ref / ref.sum(), cur / cur.sum()


def feature_test(
    feature: str, reference: pd.Series, current: pd.Series, *, text: bool = False
) -> FeatureTest:
    """Compare one feature; ``text`` marks a categorical column whatever its values look like."""
    missing = (float(reference.isna().mean()), float(current.isna().mean()) if len(current) else 0.0)
    ref, cur = reference.dropna(), current.dropna()
    kind = kind_of(ref, text=text)
    if ref.empty or cur.empty:
        return FeatureTest(feature, kind, "none", None, None, None, *missing)
    small = len(ref) <= SMALL_REFERENCE
    if kind == "numeric":
        a, b = ref.to_numpy(dtype=float), cur.to_numpy(dtype=float)
        psi = psi_from_shares(*decile_shares(a, b))
        if small:
            result = stats.ks_2samp(a, b)
            return FeatureTest(
                feature, kind, "ks", float(result.statistic), float(result.pvalue), psi, *missing
            )
        spread = max(float(np.std(a)), MIN_SPREAD)
        distance = float(stats.wasserstein_distance(a, b)) / spread
        return FeatureTest(feature, kind, "wasserstein_normed", distance, None, psi, *missing)
    ref_counts, cur_counts, ref_shares, cur_shares = _shares(ref, cur)
    psi = psi_from_shares(ref_shares, cur_shares)
    if not small:
        distance = float(
            jensenshannon(np.maximum(ref_shares, EMPTY_SHARE), np.maximum(cur_shares, EMPTY_SHARE))
        )
        return FeatureTest(feature, kind, "jensen_shannon", distance, None, psi, *missing)
    if kind == "binary" and len(ref_counts) == 2:
        z, p = proportions_ztest([cur_counts[0], ref_counts[0]], [cur_counts.sum(), ref_counts.sum()])
        return FeatureTest(feature, kind, "z_test", float(z), float(p), psi, *missing)
    statistic, p = chi_square(ref_counts, cur_counts)
    return FeatureTest(feature, kind, "chi_square", statistic, p, psi, *missing)


def chi_square(reference_counts: np.ndarray, current_counts: np.ndarray) -> tuple[float, float]:
    """The χ² test that both samples share one distribution of values (scipy's ``chi2_contingency``
    on the 2 × values table, without Yates' correction).

    The reference shares are themselves a sample: the goodness-of-fit form, which takes them as
    exact, raised false alarms on half of the no-drift checks of 3,000 current customers against
    600 reference ones. A value only one sample has is evidence of drift, not a division by zero.
    """
    table = np.vstack([np.asarray(reference_counts, dtype=float), np.asarray(current_counts, dtype=float)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)
