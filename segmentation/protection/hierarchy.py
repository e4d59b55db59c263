"""Generalisation hierarchies: for each value of a quasi-identifier, ever coarser labels up to ``*``.

A hierarchy maps every value (level 0) to one label per level, the top level being ``*`` (the
column removed). Users supply them in ARX's CSV format, one line per value, ``;``-separated and
without a header::

    39;35-39;30-39;*
    Paris;Ile-de-France;France;*

Without one, a default is built from the data: numbers get intervals whose width doubles from
level to level, dates the month, year and decade, postcodes ever shorter prefixes, and any
other column goes straight to ``*``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .risk import MISSING, SUPPRESSED

NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 100000)
# The first interval width splits the range into about this many parts; each level doubles it.
FIRST_LEVEL_PARTS = 32


@dataclass(frozen=True)
class Hierarchy:
    """Labels for each value of one column: ``labels[value][level]``, level 0 being the value.

    Every value has the same number of levels; the last is ``*`` for all of them.
    """

    column: str
    level_names: tuple[str, ...]
    labels: dict[str, tuple[str, ...]]
    source: str = ""  # the file it was read from, named in messages

    @property
    def height(self) -> int:
        return len(self.level_names) - 1


def value_text(series: pd.Series) -> pd.Series:
    """The text a hierarchy is looked up by: whole numbers without ``.0``, blanks as ``(missing)``."""
    if pd.api.types.is_float_dtype(series):
        filled = series.dropna()
        if len(filled) and bool((filled == np.floor(filled)).all()):
            series = series.astype("Int64")
    return series.astype("string").fillna(MISSING)


def read_hierarchy(path: Path, column: str) -> Hierarchy:
    """Read an ARX hierarchy file (``value;level1;...;*``, no header) for ``column``.

    Refuses a file that is missing, has rows of different lengths, gives one value twice, or is
    not a hierarchy (a label that leads to two different labels one level up).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError:
        raise SegmentationError(f"no hierarchy file {path} for {column}") from None
    rows = [[cell.strip() for cell in row] for row in csv.reader(text.splitlines(), delimiter=";") if row]
    if not rows:
        raise SegmentationError(f"the hierarchy file {path} for {column} is empty")
    width = len(rows[0])
    uneven = next((i for i, row in enumerate(rows, 1) if len(row) != width), None)
    if uneven is not None:
        raise SegmentationError(
            f"line {uneven} of the hierarchy {path} has {len(rows[uneven - 1])} levels, line 1 has {width}: "
            "give every value the same number of levels"
        )
    if len({row[-1] for row in rows}) > 1:  # ARX's files end in *; add it when a file stops short
        rows = [[*row, SUPPRESSED] for row in rows]
        width += 1
    labels: dict[str, tuple[str, ...]] = {}
    for row in rows:
        if row[0] in labels and labels[row[0]] != tuple(row):
            raise SegmentationError(f"the hierarchy {path} gives the value {row[0]!r} twice, differently")
        labels[row[0]] = tuple(row)
    _check_nested(list(labels.values()), f"the hierarchy {path}")
    names = ("exact", *(f"level {i}" for i in range(1, width - 1)), "suppressed")
    return Hierarchy(column=column, level_names=names, labels=labels, source=str(path))


def _check_nested(rows: list[tuple[str, ...]], where: str) -> None:
    for level in range(1, len(rows[0]) - 1):
        parent: dict[str, str] = {}
        for row in rows:
            seen = parent.setdefault(row[level], row[level + 1])
            if seen != row[level + 1]:
                raise SegmentationError(
                    f"{where} is not a hierarchy: {row[level]!r} (level {level}) leads to both "
                    f"{seen!r} and {row[level + 1]!r} one level up"
                )


def check_covers(hierarchy: Hierarchy, series: pd.Series) -> None:
    """Refuse a hierarchy that lacks a value present in the column."""
    missing = sorted(set(value_text(series).unique()) - set(hierarchy.labels))
    if missing:
        shown = ", ".join(repr(v) for v in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise SegmentationError(
            f"the hierarchy for {hierarchy.column}{f' ({hierarchy.source})' if hierarchy.source else ''} has no line for "
            f"{len(missing)} value(s) in the table: {shown}; add a line 'value;...;*' for each"
        )


def default_hierarchy(column: str, series: pd.Series, kind: str) -> Hierarchy:
    """A hierarchy built from the data for a column of ``kind`` (see ``column_kind``)."""
    values = pd.Series(value_text(series).unique(), dtype="string")
    ladders: list[tuple[str, pd.Series]] = {
        "numeric": _number_levels,
        "date": _date_levels,
        "postcode": _prefix_levels,
    }.get(kind, lambda v: [])(values)
    kept: list[tuple[str, pd.Series]] = [("exact", values)]
    for name, level in ladders:  # a level that merges nothing more than the one below adds no choice
        if level.nunique() < kept[-1][1].nunique() and level.nunique() > 1:
            kept.append((name, level))
    kept.append(("suppressed", pd.Series(SUPPRESSED, index=values.index, dtype="string")))
    labels = {str(v): tuple(str(level[i]) for _, level in kept) for i, v in enumerate(values.tolist())}
    return Hierarchy(column=column, level_names=tuple(n for n, _ in kept), labels=labels)


def _number_levels(values: pd.Series) -> list[tuple[str, pd.Series]]:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().sum() == 0:
        return []
    span = float(numbers.max() - numbers.min())
    width = next((s for s in NICE_STEPS if s >= span / FIRST_LEVEL_PARTS), NICE_STEPS[-1])
    levels = []
    # Intervals start at multiples of their width, so each one lies inside one of the next level's.
    while math.floor(numbers.min() / width) < math.floor(numbers.max() / width):
        low = np.floor(numbers / width) * width
        text = low.map(lambda v, w=width: f"{v:g}-{v + w:g}" if pd.notna(v) else MISSING)
        levels.append((f"bands of {width:g}", text.astype("string")))
        width *= 2
    return levels


def _date_levels(values: pd.Series) -> list[tuple[str, pd.Series]]:
    dates = pd.to_datetime(values.where(values != MISSING), errors="coerce", format="mixed")
    decade = dates.dt.year.map(lambda y: f"{int(y) // 10 * 10}s" if pd.notna(y) else MISSING)
    return [
        ("month", dates.dt.strftime("%Y-%m").astype("string").fillna(MISSING)),
        ("year", dates.dt.strftime("%Y").astype("string").fillna(MISSING)),
        ("decade", decade.astype("string")),
    ]


def _prefix_levels(values: pd.Series) -> list[tuple[str, pd.Series]]:
    compact = values.str.replace(" ", "")
    longest = int(compact.str.len().max() or 0)
    return [
        (f"first {keep} character(s)", (compact.str.slice(0, keep) + "*").where(values != MISSING, MISSING))
        for keep in range(longest - 1, 0, -1)
    ]
