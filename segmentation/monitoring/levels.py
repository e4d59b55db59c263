"""Levels of a monitoring check and the thresholds that set them.

Three levels, ordered: ``none`` < ``warning`` < ``drift``. A check with a p-value (after
Benjamini–Hochberg across its family) is a warning below ``p_warning`` and drift below
``p_drift``; a distance (Wasserstein normed by the reference spread, Jensen–Shannon, PSI) is a
warning at or above its warning threshold and drift at or above its drift threshold.

The defaults follow common practice: Evidently's 0.1 drift threshold for normed Wasserstein and
Jensen–Shannon distances (half of it for a warning); the credit-scoring rule of thumb for PSI
(0.1 worth a look, 0.25 a shift); 5% and 1% for adjusted p-values. A project's policy may set others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from statsmodels.stats.multitest import multipletests

from ..errors import SegmentationError

LEVELS = ("none", "warning", "drift")


@dataclass(frozen=True)
class Thresholds:
    p_warning: float = 0.05
    p_drift: float = 0.01
    distance_warning: float = 0.05
    distance_drift: float = 0.1
    psi_warning: float = 0.1
    psi_drift: float = 0.25
    # novelty: the current share of customers far from every segment against the reference's
    novelty_ratio_warning: float = 2.0
    novelty_ratio_drift: float = 4.0
    # migration: the share of customers present in both who changed segment
    migration_warning: float = 0.1
    migration_drift: float = 0.25
    # refit: how much less a refit agrees with the deployed labels on the current data than the
    # same refit does on the reference data (a drop in adjusted Rand)
    refit_drop_warning: float = 0.1
    refit_drop_drift: float = 0.25

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Thresholds:
        """Thresholds from a policy's JSON; unknown keys and values outside (0, ∞) are refused by name."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SegmentationError(
                f"unknown monitoring threshold(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        for key, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise SegmentationError(f"monitoring threshold '{key}' must be a positive number")
        thresholds = cls(**{k: float(v) for k, v in data.items()})
        # each pair (lower, higher): a drift threshold lies beyond its warning threshold
        pairs = [
            ("p_drift", "p_warning"),
            ("distance_warning", "distance_drift"),
            ("psi_warning", "psi_drift"),
            ("novelty_ratio_warning", "novelty_ratio_drift"),
            ("migration_warning", "migration_drift"),
            ("refit_drop_warning", "refit_drop_drift"),
        ]
        for low, high in pairs:
            if getattr(thresholds, low) > getattr(thresholds, high):
                raise SegmentationError(f"monitoring threshold '{low}' must not exceed '{high}'")
        return thresholds


def worst(levels: Iterable[str]) -> str:
    """The highest of ``levels`` (``none`` for none at all)."""
    return max(levels, key=LEVELS.index, default="none")


def least(levels: Iterable[str]) -> str:
    """The lowest of ``levels``: the level two conditions that must both hold reach together."""
    return min(levels, key=LEVELS.index, default="none")


def p_level(p_value: float | None, t: Thresholds) -> str:
    if p_value is None or not np.isfinite(p_value):
        return "none"
    return "drift" if p_value < t.p_drift else "warning" if p_value < t.p_warning else "none"


def at_least(value: float | None, warning: float, drift: float) -> str:
    """The level of a figure that is worse the larger it is."""
    if value is None or not np.isfinite(value):
        return "none"
    return "drift" if value >= drift else "warning" if value >= warning else "none"


def at_most(value: float | None, warning: float, drift: float) -> str:
    """The level of a figure that is worse the smaller it is."""
    if value is None or not np.isfinite(value):
        return "none"
    return "drift" if value < drift else "warning" if value < warning else "none"


def adjusted(p_values: list[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values of one family; ``None`` stays ``None``."""
    present = [i for i, p in enumerate(p_values) if p is not None and np.isfinite(p)]
    out: list[float | None] = [None] * len(p_values)
    if present:
        corrected = multipletests([p_values[i] for i in present], method="fdr_bh")[1]
        for i, value in zip(present, corrected, strict=True):
            out[i] = float(value)
    return out
