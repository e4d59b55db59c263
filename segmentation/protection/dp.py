"""Differentially private segment profiles: noisy sizes and feature means, with OpenDP.

Segments partition the customers, so one customer changes one segment's count by at most 1 and
one segment's sum of a feature by at most ``max(|lower|, |upper|)`` after clamping to the
declared bounds: the vectors of counts and of sums have those L1 sensitivities. Each statistic
gets an equal share of ``epsilon`` and the Laplace mechanism; the epsilon each release really
spends is read back from OpenDP's own privacy map and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import SegmentationError


def _laplace(values: np.ndarray, *, sensitivity: float, epsilon: float) -> tuple[np.ndarray, float]:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    measurement = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    released = np.asarray(measurement([float(v) for v in values]), dtype=float)
    return released, float(measurement.map(float(sensitivity)))


def dp_profile(
    segments: Sequence[int],
    features: pd.DataFrame,
    *,
    bounds: dict[str, tuple[float, float]],
    epsilon: float,
    n_segments: int,
) -> tuple[pd.DataFrame, float]:
    """A profile table (``segment``, ``size``, ``<feature>_mean``) released with ``epsilon``-DP.

    Returns the table and the epsilon spent. Values are clamped to ``bounds`` first; a missing
    value is replaced by the midpoint of its bounds, which keeps the sensitivity unchanged.
    """
    if not epsilon > 0:
        raise SegmentationError("epsilon must be a positive number")
    labels = np.asarray(segments, dtype=int)
    share = epsilon / (1 + len(features.columns))
    counts = np.bincount(labels, minlength=n_segments).astype(float)
    noisy_counts, spent = _laplace(counts, sensitivity=1.0, epsilon=share)
    table = pd.DataFrame(
        {"segment": range(n_segments), "size": np.maximum(np.round(noisy_counts), 0).astype(int)}
    )
    for column in features.columns:
        low, high = bounds[column]
        values = pd.to_numeric(features[column], errors="coerce").fillna((low + high) / 2).clip(low, high)
        sums = np.bincount(labels, weights=values.to_numpy(), minlength=n_segments)
        noisy_sums, used = _laplace(sums, sensitivity=max(abs(low), abs(high)), epsilon=share)
        spent += used
        # Dividing by a noisy count near zero would explode: the mean is clamped back into bounds.
        means = noisy_sums / np.maximum(noisy_counts, 1.0)
        table[f"{column}_mean"] = np.clip(means, low, high)
    return table, spent
