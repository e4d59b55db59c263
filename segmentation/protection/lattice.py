"""The least-loss full-domain generalisation, found by searching the lattice of hierarchy levels.

A node of the lattice gives one level per quasi-identifier; every row's values are replaced by
their labels at those levels. Rows in equivalence classes that break a target (fewer than k
rows, fewer than l distinct sensitive values, an entropy below log l, a distance above t) are
suppressed; a node is a solution when at most the suppression limit of rows go.

Loss is Sweeney's precision: the mean over cells of level / height, a suppressed row counting
as fully generalised (so loss = h + (1 - h) * suppressed share, where h is the node's mean
relative level). Discernibility (sum of squared class sizes, plus n for each suppressed row) is
reported and breaks ties.

The search is exact, with two prunings in the manner of OLA and Flash:

* predictive tagging: k-anonymity and distinct l-diversity with suppression are monotone (a row
  kept at a node sits in a larger, at least as diverse class at every node above it), so a node
  failing them makes every node below it fail, and those are never evaluated; the strata (nodes
  with the same sum of levels) are visited in binary-search order so that such failures are
  found early and cut large parts of the lattice;
* a loss bound: a node's loss is at least its h, so a node whose h exceeds the best loss found
  cannot win.

Entropy l-diversity and t-closeness are not monotone once rows are suppressed, so they are
checked at each node that survives the prunings.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SegmentationError
from .risk import class_distances, classes_from_codes

MAX_NODES = 500_000
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Targets:
    """What every equivalence class of the released table must meet."""

    k: int = 1
    l_distinct: int | None = None
    l_entropy: float | None = None
    t: float | None = None
    max_suppression: float = 0.05


@dataclass(frozen=True)
class SensitiveCodes:
    """One sensitive column as integer codes in sorted value order."""

    codes: np.ndarray
    values: int
    ordered: bool


@dataclass(frozen=True)
class NodeOutcome:
    """One lattice node measured: the rows it keeps and its loss."""

    levels: tuple[int, ...]
    keep: np.ndarray
    suppressed: int
    precision_loss: float
    discernibility: float


@dataclass(frozen=True)
class SearchResult:
    best: NodeOutcome
    nodes: int
    evaluated: int


def node_outcome(
    levels: tuple[int, ...],
    codes: Sequence[Sequence[np.ndarray]],
    heights: Sequence[int],
    targets: Targets,
    sensitive: Sequence[SensitiveCodes],
) -> tuple[NodeOutcome | None, bool]:
    """Measure one node: ``(outcome or None if it breaks the limit, whether k and distinct l hold)``."""
    n = len(codes[0][0])
    limit = targets.max_suppression * n + TOLERANCE
    classes = classes_from_codes([codes[j][lvl] for j, lvl in enumerate(levels)])
    sizes = np.bincount(classes)
    bad = sizes < targets.k
    counts = [_class_counts(classes, len(sizes), s) for s in sensitive]
    if targets.l_distinct:
        for c in counts:
            bad |= (c > 0).sum(axis=1) < targets.l_distinct
    if sizes[bad].sum() > limit:
        return None, False
    if targets.l_entropy:
        for c in counts:
            bad |= _entropies(c) < np.log(targets.l_entropy) - TOLERANCE
    if targets.t is not None:
        # The distance is to the released rows' distribution, which moves as classes go.
        while sizes[bad].sum() <= limit:
            kept = np.flatnonzero(~bad)
            far = np.zeros(len(kept), dtype=bool)
            for c, s in zip(counts, sensitive, strict=True):
                far |= class_distances(c[kept], ordered=s.ordered) > targets.t + TOLERANCE
            if not far.any() or far.all():
                bad[kept[far]] = True
                break
            bad[kept[far]] = True
    suppressed = int(sizes[bad].sum())
    if suppressed > limit or bad.all():
        return None, True
    keep = ~bad[classes]
    h = relative_height(levels, heights)
    share = suppressed / n
    return (
        NodeOutcome(
            levels=levels,
            keep=keep,
            suppressed=suppressed,
            precision_loss=h + (1 - h) * share,
            discernibility=float((sizes[~bad] ** 2).sum() + suppressed * n),
        ),
        True,
    )


def relative_height(levels: Sequence[int], heights: Sequence[int]) -> float:
    return float(np.mean([lvl / height for lvl, height in zip(levels, heights, strict=True)]))


def search(
    codes: Sequence[Sequence[np.ndarray]],
    targets: Targets,
    sensitive: Sequence[SensitiveCodes] = (),
) -> SearchResult:
    """The least-loss node; ``codes[j][level]`` are quasi-identifier j's row codes at each level."""
    heights = [len(levels) - 1 for levels in codes]
    shape = tuple(h + 1 for h in heights)
    total = int(np.prod(shape))
    if total > MAX_NODES:
        raise SegmentationError(
            f"{total:,} combinations of hierarchy levels are too many to search: "
            "use fewer quasi-identifiers or hierarchies with fewer levels"
        )
    nodes = list(itertools.product(*(range(s) for s in shape)))
    strata: dict[int, list[tuple[int, ...]]] = {}
    for node in nodes:
        strata.setdefault(sum(node), []).append(node)
    fails_below = np.zeros(shape, dtype=bool)  # known to fail k / distinct l
    best: NodeOutcome | None = None
    evaluated = 0
    for stratum in _bisection_order(0, sum(heights)):
        for node in strata[stratum]:
            if fails_below[node]:
                continue
            if best is not None and relative_height(node, heights) > best.precision_loss + TOLERANCE:
                continue
            evaluated += 1
            outcome, monotone_ok = node_outcome(node, codes, heights, targets, sensitive)
            if not monotone_ok:
                fails_below[tuple(slice(0, lvl + 1) for lvl in node)] = True
            if outcome is not None and (best is None or _better(outcome, best)):
                best = outcome
    if best is None:
        raise SegmentationError(_impossible(targets))
    return SearchResult(best=best, nodes=total, evaluated=evaluated)


def _better(a: NodeOutcome, b: NodeOutcome) -> bool:
    key_a = (round(a.precision_loss, 12), a.discernibility, a.levels)
    key_b = (round(b.precision_loss, 12), b.discernibility, b.levels)
    return key_a < key_b


def _bisection_order(low: int, high: int) -> list[int]:
    """``low..high`` middle first, then the middles of each half, and so on (breadth first)."""
    order, queue, seen = [], [(low, high)], set()
    while queue:
        a, b = queue.pop(0)
        if a > b:
            continue
        mid = (a + b) // 2
        if mid not in seen:
            seen.add(mid)
            order.append(mid)
        queue += [(a, mid - 1), (mid + 1, b)]
    return order


def _class_counts(classes: np.ndarray, n_classes: int, s: SensitiveCodes) -> np.ndarray:
    flat = np.bincount(classes * s.values + s.codes, minlength=n_classes * s.values)
    return flat.reshape(n_classes, s.values).astype(float)


def _entropies(counts: np.ndarray) -> np.ndarray:
    p = counts / counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return np.asarray(-terms.sum(axis=1))


def _impossible(targets: Targets) -> str:
    wanted = [f"k = {targets.k}"]
    if targets.l_distinct:
        wanted.append(f"distinct l = {targets.l_distinct}")
    if targets.l_entropy:
        wanted.append(f"entropy l = {targets.l_entropy:g}")
    if targets.t is not None:
        wanted.append(f"t = {targets.t:g}")
    return (
        f"no generalisation reaches {', '.join(wanted)} while suppressing at most "
        f"{targets.max_suppression:.0%} of rows, even with every quasi-identifier at its top level: "
        "raise the suppression limit or relax a target"
    )
