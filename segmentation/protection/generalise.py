"""Generalising quasi-identifiers until a table meets targets for k, l and t, losing least.

Each quasi-identifier gets a hierarchy (supplied in ARX's format, or a default built from the
data: see ``hierarchy``); the lattice search (``lattice``) picks the combination of levels with
the least precision loss among those that reach the targets while suppressing at most the
limit of rows. The released table holds the labels at the chosen levels, suppressed rows removed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .hierarchy import Hierarchy, check_covers, default_hierarchy, value_text
from .lattice import SensitiveCodes, Targets, search
from .risk import equivalence_classes, sensitive_values

POSTCODE_NAMES = re.compile(r"post|zip|postal", re.I)
DATE_NAMES = re.compile(r"date|dob|birth|_at$|_on$", re.I)


@dataclass
class Generalisation:
    """What was done to reach the targets, and the table it produced (suppressed rows removed).

    ``information_loss`` is the precision loss (0 = exact, 1 = every cell removed);
    ``discernibility`` the sum of squared class sizes plus n per suppressed row.
    """

    target_k: int
    achieved_k: int
    levels: dict[str, str]
    suppressed_rows: int
    information_loss: float
    frame: pd.DataFrame
    discernibility: float = 0.0
    level_numbers: dict[str, int] = field(default_factory=dict)
    heights: dict[str, int] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    lattice_nodes: int = 0
    evaluated_nodes: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["frame"]
        return data


def column_kind(name: str, series: pd.Series) -> str:
    """How a quasi-identifier is generalised by default: ``numeric``, ``date``, ``postcode`` or ``category``."""
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


def hierarchies_for(
    frame: pd.DataFrame, quasi_identifiers: Sequence[str], supplied: Mapping[str, Hierarchy] | None = None
) -> dict[str, Hierarchy]:
    """The hierarchy of every quasi-identifier: the supplied one (checked to cover the column) or a default."""
    supplied = dict(supplied or {})
    unknown = sorted(set(supplied) - set(quasi_identifiers))
    if unknown:
        raise SegmentationError(
            f"a hierarchy was given for {', '.join(unknown)}, which is not among the quasi-identifiers"
        )
    result = {}
    for column in quasi_identifiers:
        if column in supplied:
            check_covers(supplied[column], frame[column])
            result[column] = supplied[column]
        else:
            result[column] = default_hierarchy(column, frame[column], column_kind(column, frame[column]))
    return result


def level_codes(series: pd.Series, hierarchy: Hierarchy) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Row codes and the labels they stand for at each level of the hierarchy."""
    value_codes, uniques = pd.factorize(value_text(series))
    codes, labels = [], []
    for level in range(hierarchy.height + 1):
        level_labels = np.array([hierarchy.labels[str(u)][level] for u in uniques], dtype=object)
        label_codes, label_uniques = pd.factorize(level_labels)
        codes.append(label_codes[value_codes].astype(np.int64))
        labels.append(np.asarray(label_uniques, dtype=object))
    return codes, labels


def generalise(
    frame: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    k: int,
    max_suppression: float = 0.05,
    sensitive: Sequence[str] = (),
    l_distinct: int | None = None,
    l_entropy: float | None = None,
    t: float | None = None,
    hierarchies: Mapping[str, Hierarchy] | None = None,
) -> Generalisation:
    """Coarsen the quasi-identifiers so every class meets k (and l, t when given), losing least.

    Rows left in classes that break a target are suppressed (removed), at most
    ``max_suppression`` of the table. Refuses targets no node of the lattice reaches.
    """
    qis = list(quasi_identifiers)
    _check_targets(frame, qis, k, max_suppression, sensitive, l_distinct, l_entropy, t)
    chosen = hierarchies_for(frame, qis, hierarchies)
    coded = [level_codes(frame[c], chosen[c]) for c in qis]
    sensitive_codes = [SensitiveCodes(*sensitive_values(frame, s)) for s in sensitive]
    targets = Targets(k=k, l_distinct=l_distinct, l_entropy=l_entropy, t=t, max_suppression=max_suppression)
    found = search([codes for codes, _ in coded], targets, sensitive_codes)
    best = found.best
    result = frame.copy()
    for j, column in enumerate(qis):
        codes, labels = coded[j]
        result[column] = pd.Series(labels[best.levels[j]][codes[best.levels[j]]], index=frame.index).astype(
            "string"
        )
    result = result[best.keep].reset_index(drop=True)
    achieved = int(np.bincount(equivalence_classes(result, qis)).min())
    return Generalisation(
        target_k=k,
        achieved_k=achieved,
        levels={c: chosen[c].level_names[lvl] for c, lvl in zip(qis, best.levels, strict=True)},
        suppressed_rows=best.suppressed,
        information_loss=round(best.precision_loss, 6),
        frame=result,
        discernibility=best.discernibility,
        level_numbers=dict(zip(qis, best.levels, strict=True)),
        heights={c: chosen[c].height for c in qis},
        targets={name: v for name, v in asdict(targets).items() if v is not None},
        lattice_nodes=found.nodes,
        evaluated_nodes=found.evaluated,
    )


def _check_targets(
    frame: pd.DataFrame,
    qis: list[str],
    k: int,
    max_suppression: float,
    sensitive: Sequence[str],
    l_distinct: int | None,
    l_entropy: float | None,
    t: float | None,
) -> None:
    missing = [c for c in [*qis, *sensitive] if c not in frame.columns]
    if missing:
        raise SegmentationError(
            f"no column(s) {', '.join(missing)}; the columns are {', '.join(map(str, frame.columns))}"
        )
    if not qis:
        raise SegmentationError("name at least one quasi-identifier")
    if k < 1:
        raise SegmentationError("the target k must be at least 1")
    if len(frame) < k:
        raise SegmentationError(f"the table has {len(frame)} rows, fewer than the target k of {k}")
    if not 0 <= max_suppression <= 1:
        raise SegmentationError("the suppression limit is a share of rows between 0 and 1 (0.05 = 5%)")
    if (l_distinct or l_entropy or t is not None) and not sensitive:
        raise SegmentationError("l and t need a sensitive column: name it with the sensitive attributes")
    if (l_distinct is not None and l_distinct < 1) or (l_entropy is not None and l_entropy < 1):
        raise SegmentationError("the target l must be at least 1")
    if t is not None and not 0 <= t <= 1:
        raise SegmentationError("the target t is a distance between 0 and 1")
