"""Differentially private segment profiles: noisy sizes and feature means, with OpenDP.

Segments partition the customers (a density model's noise customers, label -1, are one more
group), so adding or removing one customer changes one group's count by at most 1 and one group's
sum of a feature by at most ``max(|low|, |high|)`` once values are clamped to ``[low, high]``: the
vectors of counts and of sums have those L1 sensitivities. Counts get OpenDP's discrete Laplace
(integers in, integers out), sums the continuous Laplace; a mean is post-processing (noisy sum over
noisy count, clamped back into the bounds), so it spends nothing more.

The clamping bounds must not come from the data itself: the data's own minimum and maximum would
let one customer set the noise scale and would leak that customer's value. A column's bounds are
the project's declared public bounds (the spec's ``dp_bounds``) when it has them; otherwise they
are a DP estimate of the column's 5th and 95th percentiles (OpenDP's private quantile over a fixed,
data-independent grid of candidates), which spends :data:`BOUNDS_SHARE` of epsilon. The rest is
shared equally between the counts and each feature's sums. Every part's epsilon is read back from
OpenDP's own privacy map; the release spends their sum (sequential composition).

The segment labels are treated as a fixed function of each customer (the model applied to them);
the fit of the model itself is not made private here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError

__all__ = ["BOUNDS_QUANTILES", "BOUNDS_SHARE", "NOISE_GROUP", "PrivateProfile", "dp_profile"]

# The share of epsilon spent on estimating the bounds of columns without declared bounds.
BOUNDS_SHARE = 0.25
# The clamping bounds estimated for an undeclared column: its DP 5th and 95th percentiles.
BOUNDS_QUANTILES = (0.05, 0.95)
# The label a density model gives customers in no segment; released as one more group.
NOISE_GROUP = -1
# Candidates for a private quantile: zero and 1-2-5 steps from 0.01 to 500 million either side.
# Fixed in advance, so the grid reveals nothing about the data.
_STEPS = [m * 10.0**e for e in range(-2, 9) for m in (1.0, 2.0, 5.0)]
QUANTILE_CANDIDATES = sorted({0.0, *_STEPS, *(-s for s in _STEPS)})

EPSILON_REFUSED = "epsilon must be a positive number, e.g. 0.5"
BOUNDS_REFUSED = "the bounds of {column!r} must be two finite numbers, low below high; got {value!r}"
LABELS_REFUSED = (
    "segment labels must be whole numbers from 0 to {top} (or -1 for a density model's noise "
    "customers); found {bad}"
)


@dataclass(frozen=True)
class PrivateProfile:
    """A released profile: the noisy table, the bounds used and the epsilon of every part.

    ``table`` has ``segment``, ``size`` and ``<feature>_mean``; a row with segment -1 holds a
    density model's noise customers. ``parts`` maps each mechanism (``bounds:<column>:low``,
    ``counts``, ``sums:<column>``) to the epsilon OpenDP's privacy map says it spent; ``epsilon``
    is their sum. ``bounds_source`` says per column whether its bounds were ``declared`` or a
    ``dp_quantile``.
    """

    table: pd.DataFrame
    epsilon: float
    parts: dict[str, float]
    bounds: dict[str, tuple[float, float]]
    bounds_source: dict[str, str] = field(default_factory=dict)


def _float_vectors() -> tuple[Any, Any]:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp, dp.vector_domain(dp.atom_domain(T=float, nan=False))


def _laplace(values: np.ndarray, *, sensitivity: float, epsilon: float) -> tuple[np.ndarray, float]:
    dp, domain = _float_vectors()
    measurement = dp.m.make_laplace(domain, dp.l1_distance(T=float), scale=sensitivity / epsilon)
    released = np.asarray(measurement([float(v) for v in values]), dtype=float)
    return released, float(measurement.map(float(sensitivity)))


def _discrete_laplace(counts: np.ndarray, *, epsilon: float) -> tuple[np.ndarray, float]:
    """Integer counts with discrete Laplace noise of scale ``1 / epsilon`` (sensitivity 1)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = dp.m.make_laplace(*space, scale=1.0 / epsilon)
    released = np.asarray(measurement([int(c) for c in counts]), dtype=float)
    return released, float(measurement.map(1))


def _private_quantile(values: np.ndarray, *, alpha: float, epsilon: float) -> tuple[float, float]:
    dp, domain = _float_vectors()

    def build(scale: float) -> Any:
        return dp.m.make_private_quantile(
            domain,
            dp.symmetric_distance(),
            dp.max_divergence(),
            candidates=QUANTILE_CANDIDATES,
            alpha=alpha,
            scale=scale,
        )

    # The privacy map is linear in 1/scale: calibrate the scale from the map at scale 1.
    measurement = build(float(build(1.0).map(1)) / epsilon)
    return float(measurement([float(v) for v in values])), float(measurement.map(1))


def _checked_bounds(column: str, value: object) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise SegmentationError(BOUNDS_REFUSED.format(column=column, value=value)) from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise SegmentationError(BOUNDS_REFUSED.format(column=column, value=value))
    return low, high


def _groups(segments: Sequence[int], n_segments: int) -> tuple[np.ndarray, list[int]]:
    """Each customer's row index in the table, and the table's segment numbers."""
    labels = pd.to_numeric(pd.Series(segments), errors="coerce").to_numpy(dtype=float)
    bad = (
        ~np.isfinite(labels) | (labels != np.round(labels)) | (labels < NOISE_GROUP) | (labels >= n_segments)
    )
    if bad.any():
        shown = sorted({str(v) for v in labels[bad]})[:5]
        raise SegmentationError(LABELS_REFUSED.format(top=n_segments - 1, bad=", ".join(shown)))
    labels = labels.astype(int)
    has_noise = bool((labels == NOISE_GROUP).any())
    # The noise group comes first, so the table's rows stay in segment order.
    rows = labels + 1 if has_noise else labels
    return rows, ([NOISE_GROUP] if has_noise else []) + list(range(n_segments))


def dp_profile(
    segments: Sequence[int],
    features: pd.DataFrame,
    *,
    epsilon: float,
    n_segments: int,
    bounds: Mapping[str, Sequence[float]] | None = None,
) -> PrivateProfile:
    """A profile table released with ``epsilon``-DP (pure DP, add/remove one customer).

    ``bounds`` are the declared public bounds of some or all of ``features``' columns; a column
    without them gets DP quantile bounds from a :data:`BOUNDS_SHARE` of epsilon. Values are
    clamped to the bounds; a missing value is replaced by the bounds' midpoint, which keeps the
    sensitivity unchanged. Refuses a non-positive epsilon, bounds that are not ``low < high`` and
    labels outside ``-1 .. n_segments - 1`` with a :class:`SegmentationError`.
    """
    if not (isinstance(epsilon, int | float) and np.isfinite(epsilon) and epsilon > 0):
        raise SegmentationError(EPSILON_REFUSED)
    declared = {c: _checked_bounds(c, v) for c, v in (bounds or {}).items() if c in features.columns}
    rows, segment_numbers = _groups(segments, n_segments)
    from opendp.mod import OpenDPException

    try:
        return _release(rows, segment_numbers, features, declared, epsilon)
    except OpenDPException as exc:  # e.g. a count past the integer range OpenDP samples in
        raise SegmentationError(f"OpenDP refused the release: {exc.message}") from None


def _release(
    rows: np.ndarray,
    segment_numbers: list[int],
    features: pd.DataFrame,
    declared: dict[str, tuple[float, float]],
    epsilon: float,
) -> PrivateProfile:
    undeclared = [c for c in features.columns if c not in declared]
    bounds_budget = epsilon * BOUNDS_SHARE if undeclared else 0.0
    parts: dict[str, float] = {}
    used_bounds = dict(declared)
    source = {c: "declared" for c in declared}
    for column in undeclared:
        values = pd.to_numeric(features[column], errors="coerce").dropna().to_numpy(dtype=float)
        estimates = []
        for name, alpha in zip(("low", "high"), BOUNDS_QUANTILES, strict=True):
            share = bounds_budget / (len(BOUNDS_QUANTILES) * len(undeclared))
            estimate, parts[f"bounds:{column}:{name}"] = _private_quantile(values, alpha=alpha, epsilon=share)
            estimates.append(estimate)
        low, high = min(estimates), max(estimates)
        if low == high:  # both quantiles chose one candidate: widen to the next one up
            high = next((c for c in QUANTILE_CANDIDATES if c > low), low + 1.0)
        used_bounds[column], source[column] = (low, high), "dp_quantile"

    share = (epsilon - bounds_budget) / (1 + len(features.columns))
    group_count = len(segment_numbers)
    counts = np.bincount(rows, minlength=group_count)
    noisy_counts, parts["counts"] = _discrete_laplace(counts, epsilon=share)
    table = pd.DataFrame({"segment": segment_numbers, "size": np.maximum(noisy_counts, 0).astype(int)})
    for column in features.columns:
        low, high = used_bounds[column]
        values = pd.to_numeric(features[column], errors="coerce").fillna((low + high) / 2).clip(low, high)
        sums = np.bincount(rows, weights=values.to_numpy(dtype=float), minlength=group_count)
        noisy_sums, parts[f"sums:{column}"] = _laplace(
            sums, sensitivity=max(abs(low), abs(high)), epsilon=share
        )
        # Dividing by a noisy count near zero would explode: the mean is clamped back into bounds.
        table[f"{column}_mean"] = np.clip(noisy_sums / np.maximum(noisy_counts, 1.0), low, high)
    return PrivateProfile(
        table=table,
        epsilon=float(sum(parts.values())),
        parts=parts,
        bounds=used_bounds,
        bounds_source=source,
    )
