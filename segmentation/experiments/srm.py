"""Sample-ratio mismatch: are the arms' counts what the design's ratios promise?

Per segment and over all customers (segment ``"all"``), the χ² goodness-of-fit test of the
counts per arm against the shares ratio_i / Σ ratio (``scipy.stats.chisquare``). A mismatch
(p < 0.001, the usual threshold: a check run on every experiment must not cry wolf) means
customers were lost or gained unevenly between arms — a broken assignment or outcomes missing
more in one arm — and the effects should not be trusted until it is explained.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .arms import Arm

SRM_P = 0.001
SRM_COLUMNS = ["segment", "arm", "expected_share", "observed", "expected", "chi2", "p_value", "flagged"]


def srm_rows(segment: object, counts: np.ndarray, arms: tuple[Arm, ...]) -> list[dict]:
    ratios = np.array([a.ratio for a in arms], dtype=float)
    shares = ratios / ratios.sum()
    observed = np.asarray(counts, dtype=float)
    expected = shares * observed.sum()
    if observed.sum() > 0:
        chi2, p = stats.chisquare(observed, expected)
    else:
        chi2, p = np.nan, np.nan
    flagged = bool(p < SRM_P)
    return [
        {
            "segment": segment,
            "arm": arm.name,
            "expected_share": float(share),
            "observed": int(n),
            "expected": float(e),
            "chi2": float(chi2),
            "p_value": float(p),
            "flagged": flagged,
        }
        for arm, share, n, e in zip(arms, shares, observed, expected, strict=True)
    ]


def srm_table(customers: pd.DataFrame, arms: tuple[Arm, ...]) -> pd.DataFrame:
    """``customers``: one row a customer with ``segment`` and ``arm``. Segments in order, then "all"."""
    names = [a.name for a in arms]
    counts = pd.crosstab(customers["segment"], customers["arm"]).reindex(columns=names, fill_value=0)
    rows = []
    for segment, row in counts.sort_index().iterrows():
        rows += srm_rows(int(segment), row.to_numpy(), arms)
    rows += srm_rows("all", counts.sum(axis=0).to_numpy(), arms)
    return pd.DataFrame(rows, columns=SRM_COLUMNS)
