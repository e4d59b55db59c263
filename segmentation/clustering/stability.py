"""How reproducible a clustering is: bootstrap stability and consensus clustering.

``refit(rows, seed) -> labels`` is the algorithm under test: it clusters the given rows from
scratch (same settings, the given seed) and returns one label per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import adjusted_rand_score

from .sampling import sample_rows

Refit = Callable[[np.ndarray, int], np.ndarray]

# Refitting on every row B times per candidate would dominate a 200k run (twenty mixtures over
# 200k rows is ~50 s); a resample of 2,000 rows estimates the same agreement in a fraction.
STABILITY_ROWS = 2_000
CONSENSUS_ROWS = 2_000
# Şenbabaoğlu et al. (2014): pairs clustered together in 10–90% of resamples are "ambiguous".
AMBIGUOUS = (0.1, 0.9)


# The bootstrap interval of a stability figure: the central 95% of its resamples' values.
INTERVAL_LEVEL = 0.95


@dataclass(frozen=True)
class Stability:
    """Bootstrap stability: mean adjusted Rand over resamples and Hennig's per-segment Jaccard.

    ``rows``: how many rows each resample drew; ``jaccards``: each segment's Jaccard per
    resample, from which :func:`percentile_interval` gives its interval."""

    mean_ari: float
    aris: tuple[float, ...]
    jaccard: dict[int, float]  # original segment -> mean Jaccard of its best match per resample
    rows: int = 0
    jaccards: dict[int, tuple[float, ...]] = field(default_factory=dict)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% percentile interval of the resamples' adjusted Rand."""
        return percentile_interval(self.aris)

    @property
    def jaccard_intervals(self) -> dict[int, tuple[float, float]]:
        """Each segment's 95% percentile interval of its Jaccard over the resamples."""
        out = {}
        for segment, values in self.jaccards.items():
            interval = percentile_interval(values)
            if interval is not None:
                out[segment] = interval
        return out


def percentile_interval(values: Sequence[float], level: float = INTERVAL_LEVEL) -> tuple[float, float] | None:
    """The bootstrap percentile interval (Efron): the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of the resampled values; None without a value."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if not len(finite):
        return None
    low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _seeds(random_state: int, count: int) -> np.ndarray:
    return np.random.default_rng([random_state, 7_919]).integers(0, 2**31 - 1, size=count)


def bootstrap_stability(
    X: np.ndarray,
    labels: np.ndarray,
    refit: Refit,
    *,
    resamples: int = 20,
    random_state: int = 0,
    max_rows: int = STABILITY_ROWS,
) -> Stability:
    """Resample rows with replacement ``resamples`` times, refit, and compare with ``labels``.

    Each resample draws ``min(n, max_rows)`` rows with replacement (an m-out-of-n bootstrap
    when capped). Agreement is measured on the distinct rows drawn (the overlap with the full
    fit): the adjusted Rand index, and for each original segment C the Jaccard
    ``|C ∩ D| / |C ∪ D|`` with its best-matching resample segment D (Hennig 2007, clusterwise
    stability; below 0.5 a segment "dissolves", above 0.75 it is stable).
    """
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    n = len(X)
    size = min(n, max_rows)
    rng = np.random.default_rng(random_state)
    segments = np.unique(labels[labels >= 0])
    aris: list[float] = []
    jaccard: dict[int, list[float]] = {int(s): [] for s in segments}
    for seed in _seeds(random_state, resamples):
        drawn = rng.integers(0, n, size=size)
        refitted = np.asarray(refit(X[drawn], int(seed)))
        unique, first = np.unique(drawn, return_index=True)
        original, again = labels[unique], refitted[first]
        aris.append(float(adjusted_rand_score(original, again)))
        for s in segments:
            in_c = original == s
            if not in_c.any():
                continue
            best = 0.0
            for d in np.unique(again[in_c]):
                if d < 0:
                    continue
                in_d = again == d
                best = max(best, float((in_c & in_d).sum() / (in_c | in_d).sum()))
            jaccard[int(s)].append(best)
    mean_ari = float(np.mean(aris)) if aris else float("nan")
    return Stability(
        mean_ari=mean_ari,
        aris=tuple(aris),
        jaccard={s: float(np.mean(v)) if v else float("nan") for s, v in jaccard.items()},
        rows=size,
        jaccards={s: tuple(v) for s, v in jaccard.items()},
    )


@dataclass(frozen=True)
class Consensus:
    """Consensus clustering (Monti et al. 2003) on a sample of rows.

    ``matrix[i, j]``: among resamples that drew both rows i and j, the share that put them in
    one segment. ``pac``: proportion of ambiguous pairs, the consensus CDF at 0.9 minus its
    value at 0.1 (consensus above 0.1 and at most 0.9); ``index = 1 - pac`` (1 = every pair always together or always apart).
    ``within``: per segment of the given labels, the mean consensus of its pairs (Monti's m(k)).
    """

    rows: np.ndarray
    matrix: np.ndarray
    index: float
    pac: float
    within: dict[int, float]


def consensus(
    X: np.ndarray,
    labels: np.ndarray,
    refit: Refit,
    *,
    resamples: int = 20,
    fraction: float = 0.8,
    random_state: int = 0,
    max_rows: int = CONSENSUS_ROWS,
) -> Consensus:
    """Co-association over ``resamples`` subsamples (without replacement, ``fraction`` of the rows)."""
    X = np.asarray(X, dtype=float)
    rows = sample_rows(len(X), max_rows, random_state)
    points, base = X[rows], np.asarray(labels)[rows]
    m = len(points)
    together = np.zeros((m, m))
    drawn_both = np.zeros((m, m))
    rng = np.random.default_rng(random_state)
    for seed in _seeds(random_state, resamples):
        chosen = np.sort(rng.choice(m, size=max(2, int(fraction * m)), replace=False))
        got = np.asarray(refit(points[chosen], int(seed)))
        same = (got[:, None] == got[None, :]) & (got[:, None] >= 0)
        together[np.ix_(chosen, chosen)] += same
        drawn_both[np.ix_(chosen, chosen)] += 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.where(drawn_both > 0, together / np.maximum(drawn_both, 1), np.nan)
    upper = matrix[np.triu_indices(m, k=1)]
    upper = upper[~np.isnan(upper)]
    # PAC = CDF(0.9) - CDF(0.1) of the consensus values (Şenbabaoğlu et al. 2014): a pair together
    # in exactly 9 of 10 resamples is ambiguous, one together in exactly 1 of 10 is not.
    pac = float(np.mean((upper > AMBIGUOUS[0]) & (upper <= AMBIGUOUS[1]))) if len(upper) else float("nan")
    within = {}
    for s in np.unique(base[base >= 0]):
        members = np.flatnonzero(base == s)
        if len(members) < 2:
            continue
        block = matrix[np.ix_(members, members)][np.triu_indices(len(members), k=1)]
        within[int(s)] = float(np.nanmean(block))
    return Consensus(rows=rows, matrix=matrix, index=1.0 - pac, pac=pac, within=within)
