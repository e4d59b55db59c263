"""Generalising quasi-identifiers until a table is k-anonymous, losing as little as possible.

Each quasi-identifier gets a ladder of ever coarser versions (numeric bands, truncated dates,
shorter postcode prefixes, rare categories grouped), ending in full suppression of the column.
A small search over the ladders' rungs picks the combination with the least information loss:
the mean height climbed (0 = exact, 1 = column removed) plus the share of rows that still sit in
classes smaller than k and are suppressed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .risk import SUPPRESSED, classes_from_codes, equivalence_classes

MAX_COMBINATIONS = 4096
POSTCODE_NAMES = re.compile(r"post|zip|postal", re.I)
DATE_NAMES = re.compile(r"date|dob|birth|_at$|_on$", re.I)
NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 100000)

Rung = tuple[str, Callable[[pd.Series], pd.Series]]


@dataclass
class Generalisation:
    """What was done to reach the target k, and the table it produced (suppressed rows removed)."""

    target_k: int
    achieved_k: int
    levels: dict[str, str]
    suppressed_rows: int
    information_loss: float
    frame: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["frame"]
        return data


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("(missing)")


def _numeric_rungs(series: pd.Series) -> list[Rung]:
    numbers = pd.to_numeric(series, errors="coerce")
    span = float(numbers.max() - numbers.min()) if numbers.notna().any() else 0.0
    rungs: list[Rung] = []
    seen: set[float] = set()
    for parts in (20, 10, 5, 2):
        width = next((s for s in NICE_STEPS if s >= span / parts), NICE_STEPS[-1])
        if width in seen or width <= 0:
            continue
        seen.add(width)

        def band(s: pd.Series, width: float = width) -> pd.Series:
            values = pd.to_numeric(s, errors="coerce")
            low = np.floor(values / width) * width
            text = low.map(lambda v: f"{v:g}-{v + width:g}" if pd.notna(v) else "(missing)")
            return text.astype("string")

        rungs.append((f"bands of {width:g}", band))
    return rungs


def _date_rungs(series: pd.Series) -> list[Rung]:
    def fmt(pattern: str) -> Callable[[pd.Series], pd.Series]:
        def apply(s: pd.Series) -> pd.Series:
            dates = pd.to_datetime(s, errors="coerce", format="mixed")
            return dates.dt.strftime(pattern).astype("string").fillna("(missing)")

        return apply

    def decade(s: pd.Series) -> pd.Series:
        years = pd.to_datetime(s, errors="coerce", format="mixed").dt.year
        return years.map(lambda y: f"{int(y) // 10 * 10}s" if pd.notna(y) else "(missing)").astype("string")

    return [("month", fmt("%Y-%m")), ("year", fmt("%Y")), ("decade", decade)]


def _postcode_rungs(series: pd.Series) -> list[Rung]:
    longest = int(_as_text(series).str.replace(" ", "").str.len().max() or 0)
    rungs: list[Rung] = []
    for keep in range(longest - 1, 0, -1):

        def prefix(s: pd.Series, keep: int = keep) -> pd.Series:
            return _as_text(s).str.replace(" ", "").str.slice(0, keep) + "*"

        rungs.append((f"first {keep} character(s)", prefix))
    return rungs


def _category_rungs(series: pd.Series, k: int) -> list[Rung]:
    rungs: list[Rung] = []
    for threshold in (k, 4 * k):

        def group(s: pd.Series, threshold: int = threshold) -> pd.Series:
            text = _as_text(s)
            counts = text.map(text.value_counts())
            return text.where(counts >= threshold, "Other")

        rungs.append((f"categories with fewer than {threshold} rows grouped as Other", group))
    return rungs


def column_kind(name: str, series: pd.Series) -> str:
    """How a quasi-identifier is generalised: ``numeric``, ``date``, ``postcode`` or ``category``."""
    present = series.dropna()
    if POSTCODE_NAMES.search(name):
        return "postcode"
    if DATE_NAMES.search(name) and len(present):
        parsed = pd.to_datetime(present.astype(str), errors="coerce", format="mixed")
        if parsed.notna().mean() > 0.9:
            return "date"
    if len(present) and pd.to_numeric(present, errors="coerce").notna().mean() > 0.95:
        return "numeric"
    return "category"


def ladder(name: str, series: pd.Series, k: int) -> list[Rung]:
    """Rungs from exact to suppressed for one quasi-identifier."""
    kind = column_kind(name, series)
    middle = {
        "numeric": _numeric_rungs,
        "date": _date_rungs,
        "postcode": _postcode_rungs,
    }.get(kind)
    rungs = middle(series) if middle else _category_rungs(series, k)
    return [("exact", _as_text), *rungs, ("suppressed", lambda s: pd.Series(SUPPRESSED, index=s.index))]


def generalise(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    k: int,
    max_suppression: float = 0.05,
) -> Generalisation:
    """Coarsen the quasi-identifiers so every class has at least ``k`` rows.

    Rows left in classes smaller than ``k`` are suppressed (removed), at most ``max_suppression``
    of the table; among the combinations that satisfy this, the one with the least loss wins.
    """
    if k < 1:
        raise SegmentationError("the target k must be at least 1")
    if len(frame) < k:
        raise SegmentationError(f"the table has {len(frame)} rows, fewer than the target k of {k}")
    qis = list(quasi_identifiers)
    ladders = {c: ladder(c, frame[c], k) for c in qis}
    # Each rung's column is computed once and reused by every combination.
    cache = {c: [rung(frame[c]) for _, rung in ladders[c]] for c in qis}
    codes = {c: [pd.factorize(values)[0].astype(np.int64) for values in cache[c]] for c in qis}
    n = len(frame)

    def evaluate(levels: tuple[int, ...]) -> tuple[float, int, np.ndarray]:
        classes = classes_from_codes([codes[c][lvl] for c, lvl in zip(qis, levels, strict=True)])
        sizes = np.bincount(classes)
        keep = sizes[classes] >= k
        suppressed = int((~keep).sum())
        height = float(np.mean([lvl / (len(ladders[c]) - 1) for c, lvl in zip(qis, levels, strict=True)]))
        return height + suppressed / n, suppressed, keep

    ranges = [range(len(ladders[c])) for c in qis]
    total = int(np.prod([len(r) for r in ranges]))
    best: tuple[float, tuple[int, ...], int, np.ndarray] | None = None
    if total <= MAX_COMBINATIONS:
        candidates: Any = itertools.product(*ranges)
    else:
        candidates = _greedy_path(ranges, evaluate, n, max_suppression)
    for levels in candidates:
        loss, suppressed, keep = evaluate(tuple(levels))
        if suppressed > max_suppression * n:
            continue
        if best is None or loss < best[0]:
            best = (loss, tuple(levels), suppressed, keep)
    if best is None:  # the all-suppressed rung always satisfies any k <= n
        raise SegmentationError(f"no generalisation reaches k = {k}")
    loss, levels, suppressed, keep = best
    result = frame.copy()
    for c, lvl in zip(qis, levels, strict=True):
        result[c] = cache[c][lvl]
    result = result[keep].reset_index(drop=True)
    achieved = int(np.bincount(equivalence_classes(result, qis)).min()) if len(result) else 0
    return Generalisation(
        target_k=k,
        achieved_k=achieved,
        levels={c: ladders[c][lvl][0] for c, lvl in zip(qis, levels, strict=True)},
        suppressed_rows=suppressed,
        information_loss=round(loss, 6),
        frame=result,
    )


def _greedy_path(
    ranges: list[range], evaluate: Callable[..., tuple[float, int, np.ndarray]], n: int, limit: float
) -> list[tuple[int, ...]]:
    """Too many combinations to try: climb one rung at a time where suppression falls most."""
    levels = [0] * len(ranges)
    path = [tuple(levels)]
    while evaluate(tuple(levels))[1] > limit * n:
        options = []
        for i, r in enumerate(ranges):
            if levels[i] + 1 < len(r):
                trial = levels.copy()
                trial[i] += 1
                options.append((evaluate(tuple(trial))[0], trial))
        if not options:
            break
        levels = min(options, key=lambda o: o[0])[1]
        path.append(tuple(levels))
    return path
