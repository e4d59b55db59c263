"""The sweep's figures beyond the validity indices: each candidate's own criterion (ICL, PAC),
the finalists' comparisons for the across-family rule, and the delivered segmentation's
stability on full-size resamples with bootstrap intervals.

Candidate screening keeps the cheap stability (resamples of at most
:data:`segmentation.clustering.stability.STABILITY_ROWS` rows); the figure reported for the
winner is refitted on resamples as large as the sweep itself (``stability_rows``), because a
small resample of a large table is easier to re-cluster the same way on some data and harder on
other data (an m-out-of-n bootstrap is biased either way).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from .criteria import gaussian_bic, icl
from .selection import Comparisons
from .stability import Refit, bootstrap_stability, consensus
from .validation import dbcv

# PAC per candidate: consensus on a sample of at most this many rows and at most this many
# resamples (Şenbabaoğlu et al. use 1,000 rows; ten resamples already separate a stable k's
# PAC near 0 from an ambiguous k's, at a tenth of the winner's consensus cost).
PAC_ROWS = 1_000
PAC_RESAMPLES = 10


def mixture_icl(estimator: Any, space: np.ndarray, bic: float) -> float | None:
    """The fitted mixture's ICL on ``space`` (None when it gives no memberships)."""
    if not hasattr(estimator, "predict_proba"):
        return None
    return icl(bic, estimator.predict_proba(space))


def candidate_pac(
    data: np.ndarray, labels: np.ndarray, refit: Refit, resamples: int, random_state: int
) -> float:
    """Proportion of ambiguous pairs of one candidate's refits (cheap: see PAC_ROWS)."""
    agreement = consensus(
        data,
        labels,
        refit,
        resamples=min(resamples, PAC_RESAMPLES),
        random_state=random_state,
        max_rows=PAC_ROWS,
    )
    return agreement.pac


def agreement(first: np.ndarray, second: np.ndarray) -> float | None:
    """Adjusted Rand between two labellings on the rows both place (density noise left out)."""
    both = (first >= 0) & (second >= 0)
    if both.sum() < 2:
        return None
    return float(adjusted_rand_score(first[both], second[both]))


def comparisons(
    candidates: list[dict[str, Any]], label_sets: list[np.ndarray], space: np.ndarray, random_state: int
) -> Comparisons:
    """The across-family rule's questions, answered on the sweep's rows; a DBCV or Gaussian BIC
    computed for a finalist is written on its candidate, so metrics.json shows what decided."""

    def dbcv_of(i: int) -> float | None:
        if candidates[i].get("dbcv") is None:
            candidates[i]["dbcv"] = dbcv(space, label_sets[i], random_state=random_state)
        value = candidates[i]["dbcv"]
        return None if value is None else float(value)

    def gaussian_bic_of(i: int) -> float | None:
        if "gaussian_bic" not in candidates[i]:
            candidates[i]["gaussian_bic"] = gaussian_bic(space, label_sets[i])
        value = candidates[i]["gaussian_bic"]
        return None if value is None else float(value)

    return Comparisons(
        agreement=lambda i, j: agreement(label_sets[i], label_sets[j]),
        dbcv=dbcv_of,
        gaussian_bic=gaussian_bic_of,
    )


def full_size_stability(
    data: np.ndarray, labels: np.ndarray, refit: Refit, resamples: int, random_state: int
) -> tuple[dict[str, Any], dict[int, float], dict[int, tuple[float, float]]]:
    """The delivered segmentation's stability on resamples of every sweep row (with replacement).

    Returns the ``selected`` entries (``stability``, ``stability_interval``, ``stability_rows``,
    ``stability_resamples``) and each segment's mean Jaccard and its interval, keyed by the
    clustering's own labels (the sweep re-keys them by delivered number).
    """
    result = bootstrap_stability(
        data, labels, refit, resamples=resamples, random_state=random_state, max_rows=len(data)
    )
    interval = result.interval
    entries: dict[str, Any] = {
        "stability": result.mean_ari,
        "stability_interval": None if interval is None else [round(interval[0], 4), round(interval[1], 4)],
        "stability_rows": result.rows,
        "stability_resamples": len(result.aris),
    }
    return entries, result.jaccard, result.jaccard_intervals
