"""Out-of-time validation: do the segments chosen at ``as_of`` foretell what customers did next?

The behaviour after ``as_of`` (:mod:`segmentation.data.future`: came back or not, and spend) is
an outcome the segments were never built from, so it is tested exactly as a declared outcome
column is (:func:`segmentation.explain.outcomes.outcome_association`: Wilson or t intervals, a
chi-square or Monte-Carlo test, Kruskal–Wallis, each segment against the rest). The caller
adjusts its p-values together with the declared outcomes' (Benjamini–Hochberg over the run).

The check is stored in ``metrics.json`` as ``out_of_time``: the window's facts, and
``outcomes`` in the shape of the metrics' ``outcomes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.future import OUT_OF_TIME_OUTCOMES, FutureBehaviour
from .outcomes import outcome_association


def out_of_time_check(
    labels: np.ndarray, customer_ids: pd.Series | np.ndarray, future: FutureBehaviour, *, seed: int = 0
) -> dict[str, Any]:
    """The window and one outcome entry per out-of-time outcome (unadjusted ``p_value`` only).

    ``labels`` are the segments of ``customer_ids``, in the same order. A customer without a row
    in ``future.frame`` (never the case for features built from the same log) did not come back.
    When the check is not possible, ``outcomes`` is empty and ``reason`` says why.
    """
    check: dict[str, Any] = {**future.window, "outcomes": []}
    if not future.possible or future.frame is None:
        return check
    ids = pd.DataFrame({"customer_id": np.asarray(customer_ids, dtype=object).astype(str)})
    behaviour = future.frame.astype({"customer_id": str})
    aligned = ids.merge(behaviour, on="customer_id", how="left", validate="many_to_one")
    for name in OUT_OF_TIME_OUTCOMES:
        values = aligned[name].fillna(0.0).to_numpy(dtype=float)
        entry = outcome_association(np.asarray(labels), values, name=name, seed=seed)
        entry["mapping"] = None
        check["outcomes"].append(entry)
    return check
