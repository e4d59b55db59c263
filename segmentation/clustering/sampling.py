"""Seeded row samples: how every clustering step that cannot afford all rows picks its rows.

The estimators fit on a sample, the validity indices score one, the sweep compares candidates on
one and consensus clustering resamples one. They all draw the same way (a seeded draw without
replacement, sorted so the rows keep their order), so a seed picks the same customers in each.
"""

from __future__ import annotations

import numpy as np


def sample_rows(n: int, size: int, random_state: int) -> np.ndarray:
    """Sorted indices of a seeded sample of ``size`` rows (all rows when ``n <= size``)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def subsample(n: int, size: int, random_state: int) -> np.ndarray | None:
    """The rows of :func:`sample_rows`, or None when every row fits (the caller then uses all)."""
    if n <= size:
        return None
    return sample_rows(n, size, random_state)
