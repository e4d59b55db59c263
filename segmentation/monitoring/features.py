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

Each tested feature keeps the shares its PSI was computed from, for charts (:class:`Distribution`):
the PSI bins of a numeric feature, closed at the lowest and highest value of either sample; the
values of any other, the ``TOP_CATEGORIES`` most frequent in the reference and the rest as one
``other``. A bin no customer of either sample is in (the lowest one, when the reference's first
decile is its minimum) is left out: it adds nothing to the PSI.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

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
TOP_CATEGORIES = 20
OTHER = "other"


@dataclass(frozen=True)
class Distribution:
    """The shares of present values of both samples, bin by bin: ``edges`` (one more than the
    shares, numeric) or ``categories`` (as many, the others)."""

    kind: str  # numeric | categorical
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        bins: dict[str, Any] = (
            {"edges": list(self.edges)} if self.kind == "numeric" else {"categories": list(self.categories)}
        )
        return {
            "kind": self.kind,
            **bins,
            "reference": [round(v, 6) for v in self.reference],
            "current": [round(v, 6) for v in self.current],
        }


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
    distribution: Distribution | None = None


def _present(values: Any, *, text: bool) -> tuple[np.ndarray, float]:
    """The values that are not missing (sorted numbers, or text) and the missing share."""
    if text:
        series = pd.Series(values, dtype="string")
        missing = series.isna().to_numpy()
        return series[~missing].to_numpy(dtype=object), float(missing.mean()) if len(series) else 0.0
    numbers = np.asarray(values, dtype=float)
    missing = np.isnan(numbers)
    return np.sort(numbers[~missing]), float(missing.mean()) if len(numbers) else 0.0


def kind_of(values: np.ndarray, *, text: bool) -> str:
    """``binary`` (two values at most), ``categorical`` (text, or up to five numbers) or ``numeric``.
    Numbers come sorted, so their distinct values are counted from neighbours."""
    distinct = (
        len(pd.unique(values)) if text else (int(np.count_nonzero(np.diff(values))) + 1 if len(values) else 0)
    )
    if distinct <= 2:
        return "binary"
    return "categorical" if text or distinct <= DISCRETE_VALUES else "numeric"


def _counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values seen in either sample and the counts of each, in one order for both."""
    codes, levels = pd.factorize(np.concatenate([reference, current]), sort=True)
    ref = np.bincount(codes[: len(reference)], minlength=len(levels)).astype(float)
    cur = np.bincount(codes[len(reference) :], minlength=len(levels)).astype(float)
    return np.asarray(levels), ref, cur


def psi_from_shares(reference: np.ndarray, current: np.ndarray) -> float:
    """Σ (current − reference) · ln(current / reference), empty bins at ``EMPTY_SHARE``."""
    ref = np.maximum(np.asarray(reference, dtype=float), EMPTY_SHARE)
    cur = np.maximum(np.asarray(current, dtype=float), EMPTY_SHARE)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def sorted_quantiles(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """numpy's default (linear) quantiles of already sorted values, without sorting again."""
    h = (len(values) - 1) * np.asarray(q, dtype=float)
    low = np.floor(h).astype(int)
    high = np.minimum(low + 1, len(values) - 1)
    return values[low] + (h - low) * (values[high] - values[low])


def decile_shares(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of both sorted samples in bins cut at the reference's deciles (repeated edges merged);
    a value on an edge falls in the bin above it."""
    _, ref, cur = _decile_bins(reference, current)
    return ref, cur


def _decile_bins(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inner edges and both samples' shares of :func:`decile_shares`."""
    inner = np.unique(sorted_quantiles(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))

    def shares(values: np.ndarray) -> np.ndarray:
        below = np.searchsorted(values, inner, side="left")  # values under each edge
        return np.diff(np.concatenate([[0], below, [len(values)]])) / len(values)

    return inner, shares(reference), shares(current)


def numeric_distribution(
    inner: np.ndarray,
    reference: np.ndarray,
    current: np.ndarray,
    ref_shares: np.ndarray,
    cur_shares: np.ndarray,
) -> Distribution:
    """The PSI bins of two sorted samples with their outer edges closed at the lowest and highest
    value of either; an empty first bin (edge at the minimum) is dropped. ``numpy.histogram`` on
    these edges counts as the PSI does: each bin holds its lower edge, the last its upper one too."""
    low, high = min(reference[0], current[0]), max(reference[-1], current[-1])
    edges = np.concatenate([[low], inner, [high]])
    if ref_shares[0] == 0 and cur_shares[0] == 0 and low == inner[0]:
        edges, ref_shares, cur_shares = edges[1:], ref_shares[1:], cur_shares[1:]
    return Distribution(
        "numeric",
        tuple(float(v) for v in ref_shares),
        tuple(float(v) for v in cur_shares),
        edges=tuple(float(v) for v in edges),
    )


def categorical_distribution(
    levels: np.ndarray, ref_counts: np.ndarray, cur_counts: np.ndarray
) -> Distribution:
    """Shares by value, most frequent in the reference first (then in the current data); beyond
    ``TOP_CATEGORIES`` values the rest are one ``other``."""
    order = np.lexsort((-cur_counts, -ref_counts))  # last key first: reference, then current
    ref_shares, cur_shares = ref_counts[order] / ref_counts.sum(), cur_counts[order] / cur_counts.sum()
    names = [_category(v) for v in levels[order]]
    if len(names) > TOP_CATEGORIES + 1:
        other = OTHER if OTHER not in names[:TOP_CATEGORIES] else f"{OTHER} (the rest)"
        names = [*names[:TOP_CATEGORIES], other]
        ref_shares = np.append(ref_shares[:TOP_CATEGORIES], ref_shares[TOP_CATEGORIES:].sum())
        cur_shares = np.append(cur_shares[:TOP_CATEGORIES], cur_shares[TOP_CATEGORIES:].sum())
    return Distribution(
        "categorical",
        tuple(float(v) for v in ref_shares),
        tuple(float(v) for v in cur_shares),
        categories=tuple(names),
    )


def _category(value: Any) -> str:
    return value if isinstance(value, str) else format(float(value), ".12g")


def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """The first Wasserstein distance of two sorted samples, ∫ |F_a − F_b|: scipy's
    ``wasserstein_distance`` without its argsort of both samples together."""
    both = np.sort(np.concatenate([a, b]), kind="stable")  # two sorted runs: merged, not sorted
    steps = np.diff(both)
    cdf_a = np.searchsorted(a, both[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, both[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * steps))


def feature_test(feature: str, reference: Any, current: Any, *, text: bool = False) -> FeatureTest:
    """Compare one feature; ``text`` marks a categorical column whatever its values look like."""
    ref, missing_ref = _present(reference, text=text)
    cur, missing_cur = _present(current, text=text)
    missing = (missing_ref, missing_cur)
    kind = kind_of(ref, text=text)
    if len(ref) == 0 or len(cur) == 0:
        return FeatureTest(feature, kind, "none", None, None, None, *missing)
    small = len(ref) <= SMALL_REFERENCE
    if kind == "numeric":
        inner, ref_bins, cur_bins = _decile_bins(ref, cur)
        psi = psi_from_shares(ref_bins, cur_bins)
        shown = numeric_distribution(inner, ref, cur, ref_bins, cur_bins)
        if small:
            with warnings.catch_warnings():  # ties make scipy fall back to the asymptotic p, and say so
                warnings.simplefilter("ignore", RuntimeWarning)
                result = stats.ks_2samp(ref, cur)
            return FeatureTest(
                feature, kind, "ks", float(result.statistic), float(result.pvalue), psi, *missing, shown
            )
        spread = max(float(np.std(ref)), MIN_SPREAD)
        distance = wasserstein_sorted(ref, cur) / spread
        return FeatureTest(feature, kind, "wasserstein_normed", distance, None, psi, *missing, shown)
    levels, ref_counts, cur_counts = _counts(ref, cur)
    ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    psi = psi_from_shares(ref_shares, cur_shares)
    shown = categorical_distribution(levels, ref_counts, cur_counts)
    if not small:
        distance = float(
            jensenshannon(np.maximum(ref_shares, EMPTY_SHARE), np.maximum(cur_shares, EMPTY_SHARE))
        )
        return FeatureTest(feature, kind, "jensen_shannon", distance, None, psi, *missing, shown)
    if kind == "binary" and len(ref_counts) == 2:
        z, p = proportions_ztest([cur_counts[0], ref_counts[0]], [cur_counts.sum(), ref_counts.sum()])
        return FeatureTest(feature, kind, "z_test", float(z), float(p), psi, *missing, shown)
    statistic, p = chi_square(ref_counts, cur_counts)
    return FeatureTest(feature, kind, "chi_square", statistic, p, psi, *missing, shown)


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
