"""Segment transitions between two labelings of the same customers (two versions, or a version
and its refresh): how many customers moved from each segment to each other, the row-normalised
matrix (an estimate of a Markov chain's one-period transition probabilities), the segment
shares that chain predicts some periods on, and who is likely to move to a given segment.

Only customers in both labelings count; :func:`segment_transitions` says how many were in only
one. Segments a chain never leaves from (no customers before) get no row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SegmentationError

MOVER_COLUMNS = ["customer_id", "segment", "target", "probability"]


@dataclass(frozen=True)
class SegmentTransitions:
    counts: pd.DataFrame  # rows: segment before, columns: segment after; customers
    matrix: pd.DataFrame  # counts / row sums
    matched: int
    only_before: int
    only_after: int


def _labels(frame: pd.DataFrame, which: str) -> pd.Series:
    if not {"customer_id", "segment"} <= set(frame.columns):
        raise SegmentationError(f"The {which} labeling needs the columns customer_id and segment.")
    if frame["customer_id"].duplicated().any():
        raise SegmentationError(f"The {which} labeling has a customer more than once.")
    return frame.set_index("customer_id")["segment"]


def segment_transitions(before: pd.DataFrame, after: pd.DataFrame) -> SegmentTransitions:
    """``before``, ``after``: ``customer_id``, ``segment``. Segments the two share keep one
    index; rows and columns are the union of both labelings' segments, sorted."""
    old, new = _labels(before, "earlier"), _labels(after, "later")
    common = old.index.intersection(new.index)
    if len(common) == 0:
        raise SegmentationError("The two labelings share no customers.")
    segments = sorted(set(old.unique()) | set(new.unique()), key=str)
    counts = pd.crosstab(old.loc[common].to_numpy(), new.loc[common].to_numpy())
    counts = counts.reindex(index=segments, columns=segments, fill_value=0)
    counts.index.name, counts.columns.name = "before", "after"
    rows = counts.sum(axis=1)
    matrix = counts.div(rows.where(rows > 0), axis=0).loc[rows > 0]
    return SegmentTransitions(
        counts=counts,
        matrix=matrix,
        matched=len(common),
        only_before=len(old) - len(common),
        only_after=len(new) - len(common),
    )


def predicted_shares(shares: pd.Series, matrix: pd.DataFrame, steps: int = 1) -> pd.Series:
    """Shares after ``steps`` periods of the chain: shares · matrix^steps. A segment with shares
    but no row in the matrix (never seen before) is an error; shares are renormalised to 1."""
    if steps < 0:
        raise SegmentationError("The number of steps must be 0 or more.")
    unknown = [s for s in shares.index if shares[s] > 0 and s not in matrix.index]
    if unknown:
        raise SegmentationError(f"No transitions are known from segment {', '.join(map(str, unknown))}.")
    square = matrix.reindex(index=matrix.columns, fill_value=0.0)
    for s in square.index:
        if s not in matrix.index:
            square.loc[s, s] = 1.0  # a segment no one was in before keeps whoever arrives
    current = shares.reindex(square.index, fill_value=0.0).to_numpy(dtype=float)
    if current.sum() <= 0:
        raise SegmentationError("The shares must add up to more than 0.")
    current = current / current.sum()
    step = square.to_numpy(dtype=float)
    for _ in range(steps):
        current = current @ step
    return pd.Series(current, index=square.index, name="share")


def likely_movers(
    before: pd.DataFrame,
    probabilities: pd.DataFrame,
    target: object,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Customers likely to move to ``target``: those not in it now whose probability of being
    in it next period is at least ``threshold``, most likely first.

    ``probabilities`` is either a transition matrix (index: segments; then each customer gets
    their segment's row) or per-customer probabilities (a ``customer_id`` column and one column
    a segment, e.g. a lifecycle model's ``next_<state>`` renamed)."""
    labels = _labels(before, "current")
    if "customer_id" in probabilities.columns:
        table = probabilities.set_index("customer_id")
        if target not in table.columns:
            raise SegmentationError(f"There are no probabilities of moving to {target}.")
        p = table[target].reindex(labels.index)
    else:
        if target not in probabilities.columns:
            raise SegmentationError(f"Segment {target} is not in the transition matrix.")
        p = labels.map(probabilities[target])
    if not 0 <= threshold <= 1:
        raise SegmentationError("The threshold is a probability between 0 and 1.")
    frame = pd.DataFrame(
        {
            "customer_id": labels.index,
            "segment": labels.to_numpy(),
            "target": target,
            "probability": p.to_numpy(dtype=float),
        },
        columns=MOVER_COLUMNS,
    )
    keep = (frame["segment"] != target) & (frame["probability"] >= threshold)
    out = frame.loc[keep.to_numpy() & np.isfinite(frame["probability"].to_numpy())]
    return out.sort_values(["probability", "customer_id"], ascending=[False, True]).reset_index(drop=True)
