"""Would the current data, clustered afresh, still give the deployed segments?

A refit clusters customers in the model's own space with the deployed number of segments: a
Gaussian mixture for a mixture model, K-Means (four starts) otherwise, on a seeded sample of at
most ``REFIT_ROWS`` customers. Its labels are compared with the deployed model's on the same
customers: the adjusted Rand index (blind to how segments are numbered), and the share of
customers whose refit segment is matched to their deployed one, segments matched one to one by
the Hungarian algorithm on their overlap (``scipy.optimize.linear_sum_assignment``).

No refit reproduces a model exactly (another algorithm may have built it), so the same refit on
the reference customers is the baseline: the level is set by how much the agreement drops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ..clustering.sampling import sample_rows
from ..model.artefact import SegmentationModel
from ..model.assigners import GaussianMixtureAssigner
from .levels import Thresholds, at_least

REFIT_ROWS = 20_000


@dataclass(frozen=True)
class Agreement:
    customers: int
    adjusted_rand: float
    matched_share: float
    matching: dict[int, int]  # refit segment -> deployed segment


@dataclass(frozen=True)
class Refit:
    reference: Agreement | None
    current: Agreement | None
    drop: float | None
    level: str


def matched(deployed: np.ndarray, refitted: np.ndarray) -> tuple[dict[int, int], float]:
    """The one-to-one matching of refit to deployed segments that keeps most customers together,
    and the share of customers whose refit segment is matched to their deployed one."""
    overlap = pd.crosstab(refitted, deployed)
    rows, columns = linear_sum_assignment(-overlap.to_numpy())
    matching = {int(overlap.index[r]): int(overlap.columns[c]) for r, c in zip(rows, columns, strict=True)}
    kept = sum(int(overlap.iloc[r, c]) for r, c in zip(rows, columns, strict=True))
    return matching, kept / len(deployed)


def agreement(
    model: SegmentationModel, frame: pd.DataFrame, deployed: np.ndarray, *, random_state: int = 0
) -> Agreement | None:
    """A refit on ``frame`` against the deployed labels of the same rows (None when too few rows)."""
    k = model.n_segments
    rows = sample_rows(len(frame), REFIT_ROWS, random_state)
    if len(rows) <= k or k < 2:
        return None
    space = model.transform(frame.iloc[rows])
    labels = np.asarray(deployed)[rows]
    with threadpool_limits(limits=1):
        if isinstance(model.assigner, GaussianMixtureAssigner):
            refitted = GaussianMixture(k, covariance_type="full", random_state=random_state).fit_predict(
                space
            )
        else:
            refitted = KMeans(k, n_init=4, random_state=random_state).fit_predict(space)
    matching, share = matched(labels, refitted)
    return Agreement(len(rows), float(adjusted_rand_score(labels, refitted)), share, matching)


def refit_check(
    model: SegmentationModel,
    reference: pd.DataFrame,
    reference_labels: np.ndarray,
    current: pd.DataFrame,
    current_labels: np.ndarray,
    thresholds: Thresholds,
    *,
    random_state: int = 0,
) -> Refit:
    before = agreement(model, reference, reference_labels, random_state=random_state)
    now = agreement(model, current, current_labels, random_state=random_state)
    if before is None or now is None:
        return Refit(before, now, None, "none")
    drop = before.adjusted_rand - now.adjusted_rand
    return Refit(
        before, now, drop, at_least(drop, thresholds.refit_drop_warning, thresholds.refit_drop_drift)
    )
