"""Checks on the segments themselves: their shares, who moved between them, who fits none.

- Shares: the two-sample χ² test of the reference and current segment counts (noise, label −1,
  is a category of its own) and their PSI. Above ``SMALL_REFERENCE`` reference customers the
  level comes from the PSI, as a test on that many rows rejects differences nobody would act on.
- Migration: the customers present in both tables, matched on their id (the keyed pseudonym
  when ids are pseudonymised), counted by reference segment and current segment.
- Novelty: a customer is far from every segment when its outlyingness (squared distance to the
  nearest exemplar, or minus the log-density under a mixture) is beyond the reference's 99th
  percentile, or when the model calls it noise; the current share is compared with the reference
  share by a one-sided binomial test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp

from ..model.artefact import SegmentationModel
from ..model.assigners import NearestExemplars
from .features import SMALL_REFERENCE, chi_square, psi_from_shares
from .levels import Thresholds, at_least, least, p_level

NOVELTY_QUANTILE = 0.99


@dataclass(frozen=True)
class Shares:
    segments: tuple[int, ...]
    reference_counts: tuple[int, ...]
    current_counts: tuple[int, ...]
    chi_square: float
    p_value: float
    psi: float
    level: str

    def frame(self, names: dict[int, str]) -> pd.DataFrame:
        """The rows of ``segment_shares.csv``."""
        ref, cur = np.array(self.reference_counts), np.array(self.current_counts)
        return pd.DataFrame(
            {
                "segment": self.segments,
                "name": [names.get(s, "") for s in self.segments],
                "reference_customers": ref,
                "reference_share": np.round(ref / max(ref.sum(), 1), 6),
                "current_customers": cur,
                "current_share": np.round(cur / max(cur.sum(), 1), 6),
            }
        )


def segment_shares(reference: np.ndarray, current: np.ndarray, thresholds: Thresholds) -> Shares:
    segments = np.union1d(np.unique(reference), np.unique(current))
    ref = np.array([(reference == s).sum() for s in segments])
    cur = np.array([(current == s).sum() for s in segments])
    statistic, p = chi_square(ref, cur)
    psi = psi_from_shares(ref / ref.sum(), cur / cur.sum())
    if len(reference) <= SMALL_REFERENCE:
        level = p_level(p, thresholds)
    else:
        level = at_least(psi, thresholds.psi_warning, thresholds.psi_drift)
    return Shares(
        segments=tuple(int(s) for s in segments),
        reference_counts=tuple(int(c) for c in ref),
        current_counts=tuple(int(c) for c in cur),
        chi_square=statistic,
        p_value=p,
        psi=psi,
        level=level,
    )


@dataclass(frozen=True)
class Migration:
    """``matrix``: customers by reference segment (rows) and current segment (columns)."""

    matrix: pd.DataFrame
    customers: int
    moved_share: float | None
    level: str


def migration(
    reference_ids: pd.Series,
    reference_labels: np.ndarray,
    current_ids: pd.Series,
    current_labels: np.ndarray,
    thresholds: Thresholds,
) -> Migration:
    before = pd.DataFrame({"id": reference_ids.astype(str).to_numpy(), "reference_segment": reference_labels})
    after = pd.DataFrame({"id": current_ids.astype(str).to_numpy(), "current_segment": current_labels})
    both = before.drop_duplicates("id").merge(after.drop_duplicates("id"), on="id")
    if both.empty:
        return Migration(pd.DataFrame(), 0, None, "none")
    matrix = pd.crosstab(both["reference_segment"], both["current_segment"])
    moved = float((both["reference_segment"] != both["current_segment"]).mean())
    return Migration(
        matrix=matrix,
        customers=len(both),
        moved_share=moved,
        level=at_least(moved, thresholds.migration_warning, thresholds.migration_drift),
    )


def scored(model: SegmentationModel, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's segment (as ``model.predict``) and its outlyingness, larger farther from every
    segment: the squared distance to the nearest exemplar, or minus the log-density of the mixture
    (its components' weighted densities summed). The rows are transformed once for both."""
    space = model.transform(frame)
    labels = np.asarray(model.assigner.predict(space), dtype=np.int64)
    if isinstance(model.assigner, NearestExemplars):
        far = np.asarray(model.assigner.segment_distances(space).min(axis=1), dtype=float)
    else:
        scores = np.asarray(model.assigner.scores(space), dtype=float)  # twice the weighted log-density
        far = -np.asarray(logsumexp(scores / 2.0, axis=1), dtype=float)
    return labels, far


@dataclass(frozen=True)
class Novelty:
    cutoff: float
    reference_share: float
    current_share: float
    ratio: float | None
    p_value: float
    level: str


def novelty(
    reference_outlyingness: np.ndarray,
    reference_labels: np.ndarray,
    current_outlyingness: np.ndarray,
    current_labels: np.ndarray,
    thresholds: Thresholds,
) -> Novelty:
    cutoff = float(np.quantile(reference_outlyingness, NOVELTY_QUANTILE))
    far_before = (reference_outlyingness > cutoff) | (reference_labels < 0)
    far_now = (current_outlyingness > cutoff) | (current_labels < 0)
    base, share = float(far_before.mean()), float(far_now.mean())
    test = stats.binomtest(
        int(far_now.sum()), len(far_now), max(base, 1.0 / len(far_before)), alternative="greater"
    )
    ratio = share / base if base > 0 else None
    by_ratio = at_least(ratio, thresholds.novelty_ratio_warning, thresholds.novelty_ratio_drift)
    # Both must hold: a large ratio on a handful of customers is chance, a significant one tiny.
    level = least([p_level(test.pvalue, thresholds), by_ratio])
    return Novelty(cutoff, base, share, ratio, float(test.pvalue), level)
