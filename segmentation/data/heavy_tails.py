"""The field's rule for a numeric feature: log-transform a heavy right tail, z-score the rest.

Money and counts of customers (spend, orders, basket values) are right-skewed: a few customers
spend a hundred times the median. Z-scored as they are, those few sit many standard deviations
out, dominate every Euclidean distance and the clustering spends its segments on the tail.
Analysts therefore take ``log(1 + x)`` of such columns before standardising (the log-RFM of
marketing science; the "log of money and counts" of every segmentation notebook). This module
makes that decision per column, from the data, and says why.

The rule, in order (the first that applies decides):

1. fewer than three distinct values: a flag, z-scored (a log of 0/1 is the same flag);
2. any negative value (refunds make net money negative): z-scored, because ``log1p`` is defined
   only from -1 and the model's log step needs a training minimum of at least 0; shifting by the
   minimum would tie the model to the smallest refund ever seen, which a new customer can pass;
3. every value between 0 and 1: a bounded share or rate (refund_rate, q4_share), z-scored; its
   tail cannot be heavy, and ``log1p`` on [0, 1] is nearly linear anyway;
3a. an amount, count or duration the platform engineered from a transaction log (``ratio_scale``:
   recency, frequency, monetary total and mean, tenure, windows' spend and counts…): ``log1p``,
   as log-RFM does. These are ratio scales on which customers differ by factors; how skewed one
   log's column happens to be (a mean basket that varies fourfold across groups has skewness 0.3)
   does not change what a difference means. A column of an uploaded table has no known meaning,
   so the rules below decide from its shape;
4. sample skewness at most :data:`SKEWNESS_THRESHOLD` (1.0, the usual line between "moderately"
   and "highly" skewed, Bulmer 1979): roughly symmetric, z-scored;
5. ``log1p`` must make the column clearly more symmetric: its absolute skewness at most
   :data:`LOG_GAIN` (half) of the raw skewness. A skew that the log does not cure (sparse counts
   of mostly 0 and 1, which stay a near-flag after the log) is z-scored;
6. otherwise: a heavy right tail, ``log1p``.

Skewness is the moment coefficient (the Fisher-Pearson g1 that ``scipy.stats.skew`` returns).
It is computed on a seeded sample of at most :data:`SAMPLE_ROWS` rows so a million customers
cost what a hundred thousand do; rules 1-3 read the whole column (one negative anywhere rules a
log out). The thresholds sit far from the skewness of the shapes they separate (log-normal money
6+, geometric counts 2, Poisson counts 0.6, normal and uniform 0), so a sample decides as the
whole table does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SKEWNESS_THRESHOLD = 1.0
LOG_GAIN = 0.5
SAMPLE_ROWS = 100_000


@dataclass(frozen=True)
class TailDecision:
    """The transform chosen for one column, why, and the skewness before and after the log."""

    column: str
    transform: str  # "log1p" or "zscore"
    why: str
    skewness: float | None = None
    skewness_after_log: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "transform": self.transform,
            "why": self.why,
            "skewness": self.skewness,
            "skewness_after_log": self.skewness_after_log,
        }


def skewness(values: np.ndarray) -> float:
    """The moment coefficient of skewness g1 (0 for a constant column)."""
    centred = values - values.mean()
    squared = centred * centred
    spread = float(squared.mean())
    if spread <= 0:
        return 0.0
    return float((squared * centred).mean() / spread**1.5)


def decide_transform(
    column: str, values: np.ndarray, sample: np.ndarray | None = None, *, ratio_scale: bool = False
) -> TailDecision:
    """The rule of this module for one column's present values; ``sample`` (default: all of
    them) is what the skewness is measured on; ``ratio_scale``: an engineered amount, count or
    duration (rule 3a)."""
    present = values[np.isfinite(values)]
    low, high = (float(present.min()), float(present.max())) if present.size else (0.0, 0.0)
    # a third value is any value strictly between the two ends (cheaper than counting them all)
    if not np.any((present > low) & (present < high)):
        return TailDecision(column, "zscore", "two values at most: a flag")
    if low < 0:
        return TailDecision(column, "zscore", "has negative values, and a log needs values of 0 or more")
    if high <= 1:
        return TailDecision(column, "zscore", "a share between 0 and 1")
    measured = present if sample is None else sample[np.isfinite(sample)]
    raw = skewness(measured)
    if ratio_scale:
        return TailDecision(
            column,
            "log1p",
            "an amount, count or duration of the log: logged as in log-RFM (customers differ by factors)",
            round(raw, 3),
            round(skewness(np.log1p(measured)), 3),
        )
    if raw <= SKEWNESS_THRESHOLD:
        return TailDecision(column, "zscore", f"roughly symmetric (skewness {raw:.1f})", round(raw, 3))
    logged = skewness(np.log1p(measured))
    if abs(logged) > LOG_GAIN * raw:
        return TailDecision(
            column,
            "zscore",
            f"skewed (skewness {raw:.1f}) but a log does not make it symmetric ({logged:.1f})",
            round(raw, 3),
            round(logged, 3),
        )
    return TailDecision(
        column,
        "log1p",
        f"heavy right tail: skewness {raw:.1f} → {logged:.1f} after the log",
        round(raw, 3),
        round(logged, 3),
    )


def field_transforms(
    values: pd.DataFrame,
    columns: list[str] | tuple[str, ...],
    *,
    random_state: int = 0,
    ratio_scale: frozenset[str] = frozenset(),
) -> dict[str, TailDecision]:
    """The rule's decision for each of ``columns`` of ``values`` (numbers; NaN is missing);
    ``ratio_scale`` names the engineered amounts, counts and durations among them (rule 3a).

    The same seeded sample of at most :data:`SAMPLE_ROWS` rows measures every column's
    skewness, so the decision is reproducible for a given table and seed.
    """
    rows = len(values)
    chosen = None
    if rows > SAMPLE_ROWS:
        rng = np.random.default_rng(random_state)
        chosen = np.sort(rng.choice(rows, size=SAMPLE_ROWS, replace=False))
    decisions = {}
    for column in columns:
        numbers = values[column].to_numpy(dtype=float)
        sample = None if chosen is None else numbers[chosen]
        decisions[column] = decide_transform(column, numbers, sample, ratio_scale=column in ratio_scale)
    return decisions
