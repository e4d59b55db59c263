"""Every comparison of two segmentations: agreement, alignment, migration, shifts, spec changes.

A segmentation here is whatever of a run or a stored version is at hand (:class:`Segmentation`):
its labels (``customer_id``, ``segment``), its profile, its stored spec and its metrics. Labels
are compared on the customers both sides labelled, joined by customer id:

- ``agreement``: the adjusted Rand index of the two labellings (Hubert & Arabie 1985), noise
  (``-1``) counting as a label of its own; the arithmetic of scikit-learn's
  ``adjusted_rand_score``, on the migration table, in exact integers;
- ``migration``: customers by old segment (rows) and new segment (columns), ``pd.crosstab``'s
  table with noise as a row or column of its own;
- ``alignment``: which new segment continues which old one, by the Hungarian method on the
  overlap table (the matching that keeps the most customers in matched pairs; noise takes no
  part, and a pair sharing no customer is no match);
- ``centroid_shifts``: for each new segment, the old segment nearest in feature means
  (standardised by the spread of all segment means of both sides) and how far each mean moved;
- ``segments``: the two profiles side by side by segment number; ``spec_changes``: every spec
  key whose stored value differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from .errors import SegmentationError
from .explain.average import MEAN_SUFFIX
from .result import RunMetrics, SegmentationResult, Selected

Profile: TypeAlias = pd.DataFrame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True, eq=False)
class Segmentation:
    """One side of a comparison; every part is optional, and what needs a missing part is empty.

    ``labels``: one row per customer, ``customer_id`` and ``segment``; ``profile``: the profile
    as a frame or stored records; ``spec``: the spec as stored (``SegmentationSpec.to_dict()``);
    ``metrics``: the stored metrics dict or a :class:`RunMetrics`.
    """

    labels: pd.DataFrame | None = None
    profile: Profile | None = None
    spec: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | RunMetrics | None = None

    @classmethod
    def from_result(cls, result: SegmentationResult) -> Segmentation:
        return cls(
            labels=result.labels,
            profile=result.profile,
            spec=result.spec.to_dict(),
            metrics=result.metrics_view,
        )


def scored_labels(model: Any, frame: pd.DataFrame, *, id_column: str | None = None) -> pd.DataFrame:
    """``customer_id`` and ``segment`` of every row of ``frame`` with an id, as ``model`` labels
    it: how two models are compared on one table (each side scores the same frame).

    ``id_column`` names the table's id column when it is not the model's own (an older model
    trained on a table whose id was named differently scores the newer table all the same).
    """
    ids = frame[id_column or model.id_column].astype("string").str.strip()
    has_id = (ids.notna() & (ids != "")).to_numpy(dtype=bool)
    segments = np.asarray(model.predict(frame), dtype=np.int64)
    return pd.DataFrame({"customer_id": ids.to_numpy()[has_id].astype(str), "segment": segments[has_id]})


@dataclass(frozen=True)
class SpecChange:
    """A spec key whose stored value differs; None is a key the stored spec lacks (its default)."""

    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SegmentSummary:
    name: str | None
    size: int | None
    share: float | None


@dataclass(frozen=True)
class SegmentPair:
    """The segment numbered ``segment`` on each side (None where that side has no such segment)."""

    segment: int
    old: SegmentSummary | None
    new: SegmentSummary | None


@dataclass(frozen=True)
class CentroidShift:
    """A new segment, the old one nearest in standardised feature means, and each mean's move
    (new minus old, in the feature's own units)."""

    segment: int  # the new segment's row in its profile
    name: str
    closest_old_segment: int
    closest_old_name: str
    shift: dict[str, float]


@dataclass(frozen=True)
class SegmentMatch:
    """An old segment and the new one that continues it (Hungarian matching on the overlap).

    ``customers`` both share, ``jaccard`` = shared / in either (among the common customers),
    and ``mean_shift`` per feature (new minus old) when both profiles have the means.
    """

    old_segment: int
    new_segment: int
    customers: int
    jaccard: float
    mean_shift: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Migration:
    """``counts[i][j]``: common customers in old segment ``old_segments[i]`` and new segment
    ``new_segments[j]`` (both sorted; ``-1`` is noise)."""

    old_segments: tuple[int, ...]
    new_segments: tuple[int, ...]
    counts: tuple[tuple[int, ...], ...]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [list(row) for row in self.counts],
            index=pd.Index(self.old_segments, name="old"),
            columns=pd.Index(self.new_segments, name="new"),
        )

    def to_dict(self) -> dict[str, Any]:
        """As the version-diff page and its JSON show it."""
        return {
            "old_segments": list(self.old_segments),
            "new_segments": list(self.new_segments),
            "counts": [list(row) for row in self.counts],
            "rows": [
                {"segment": s, "counts": list(row)}
                for s, row in zip(self.old_segments, self.counts, strict=True)
            ],
        }


@dataclass(frozen=True)
class Comparison:
    """Everything :func:`compare_segmentations` finds; see the module docstring for each part.

    Without labels on both sides, ``agreement`` and ``migration`` are None and ``alignment``
    empty; without profiles, ``segments`` and ``centroid_shifts`` are empty. ``old_k`` and
    ``new_k`` are the selected k, or the number of profile rows where the metrics lack it.
    """

    spec_changes: tuple[SpecChange, ...]
    old_selected: Selected
    new_selected: Selected
    old_k: int
    new_k: int
    segments: tuple[SegmentPair, ...]
    centroid_shifts: tuple[CentroidShift, ...]
    common_customers: int
    agreement: float | None
    migration: Migration | None
    alignment: tuple[SegmentMatch, ...]
    unmatched_old: tuple[int, ...]
    unmatched_new: tuple[int, ...]


def compare_segmentations(old: Segmentation, new: Segmentation) -> Comparison:
    """Compare ``new`` with ``old`` (see the module docstring).

    Raises :class:`SegmentationError` when a side's labels lack ``customer_id`` or ``segment``
    or name a customer twice.
    """
    old_profile, new_profile = _records(old.profile), _records(new.profile)
    old_selected, new_selected = _selected(old.metrics), _selected(new.metrics)
    joined = _joined(old.labels, new.labels)
    migration = None if joined is None else _migration(joined)
    alignment, unmatched_old, unmatched_new = ((), (), ()) if migration is None else _alignment(migration)
    means = _means(old_profile), _means(new_profile)
    common = 0 if joined is None else len(joined)
    return Comparison(
        spec_changes=spec_changes(old.spec or {}, new.spec or {}),
        old_selected=old_selected,
        new_selected=new_selected,
        old_k=len(old_profile) if old_selected.k is None else old_selected.k,
        new_k=len(new_profile) if new_selected.k is None else new_selected.k,
        segments=_pairs(old_profile, new_profile),
        centroid_shifts=centroid_shifts(old_profile, new_profile),
        common_customers=common,
        agreement=None if migration is None or not common else _ari(migration),
        migration=migration,
        alignment=tuple(_with_shift(m, *means) for m in alignment),
        unmatched_old=unmatched_old,
        unmatched_new=unmatched_new,
    )


def spec_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[SpecChange, ...]:
    """Every key of either stored spec whose value differs, sorted by key."""
    keys = sorted(set(old) | set(new))
    return tuple(SpecChange(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k))


def centroid_shifts(old: Profile, new: Profile) -> tuple[CentroidShift, ...]:
    """For each new segment, the nearest old one in feature means and how far each mean moved.

    Distance: the sum over common features of ((new mean - old mean) / spread)², the spread
    being the standard deviation of that feature's means over both profiles' segments (1 where
    it is 0 or undefined, so a feature every segment shares neither divides by 0 nor counts).
    """
    old_rows, new_rows = _records(old), _records(new)
    ca, cb = _centroids(old_rows), _centroids(new_rows)
    common = [f for f in cb.columns if f in ca.columns]
    if not common or ca.empty or cb.empty:
        return ()
    ca, cb = ca[common], cb[common]
    spread = pd.concat([ca, cb]).std().replace(0, 1.0).fillna(1.0)
    shifts = []
    for j, row in cb.iterrows():
        distance = (((ca - row) / spread) ** 2).sum(axis=1)
        i = int(distance.idxmin())
        shifts.append(
            CentroidShift(
                segment=int(j),
                name=str(new_rows[int(j)].get("name")),
                closest_old_segment=i,
                closest_old_name=str(old_rows[i].get("name")),
                shift={f: float(row[f] - ca.loc[i, f]) for f in common},
            )
        )
    return tuple(shifts)


def _records(profile: Profile | None) -> list[Mapping[str, Any]]:
    if profile is None:
        return []
    if isinstance(profile, pd.DataFrame):
        return profile.to_dict(orient="records")
    return list(profile)


def _selected(metrics: Mapping[str, Any] | RunMetrics | None) -> Selected:
    if isinstance(metrics, RunMetrics):
        return metrics.selected
    return RunMetrics.from_dict(metrics or {}).selected


def _centroids(rows: list[Mapping[str, Any]]) -> pd.DataFrame:
    """Each segment's feature means by profile row, features named without the suffix."""
    profile = pd.DataFrame(rows)
    means = [c for c in profile.columns if str(c).endswith(MEAN_SUFFIX)]
    centroids = profile[means].astype(float)
    centroids.columns = [str(c)[: -len(MEAN_SUFFIX)] for c in means]
    return centroids


def _means(rows: list[Mapping[str, Any]]) -> dict[int, dict[str, float]]:
    """Feature means by segment number."""
    out: dict[int, dict[str, float]] = {}
    for position, row in enumerate(rows):
        number = row.get("segment")
        out[number if isinstance(number, int) else position] = {
            str(k)[: -len(MEAN_SUFFIX)]: float(v)
            for k, v in row.items()
            if str(k).endswith(MEAN_SUFFIX) and isinstance(v, int | float) and not isinstance(v, bool)
        }
    return out


def _summary(row: Mapping[str, Any] | None) -> SegmentSummary | None:
    if row is None:
        return None
    return SegmentSummary(name=row.get("name"), size=row.get("size"), share=row.get("share"))


def _pairs(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> tuple[SegmentPair, ...]:
    before = {row["segment"]: row for row in old if "segment" in row}
    after = {row["segment"]: row for row in new if "segment" in row}
    return tuple(
        SegmentPair(int(n), _summary(before.get(n)), _summary(after.get(n)))
        for n in sorted(set(before) | set(after))
    )


def _side(labels: pd.DataFrame, which: str) -> pd.DataFrame:
    absent = [c for c in ("customer_id", "segment") if c not in labels.columns]
    if absent:
        raise SegmentationError(f"the {which} labels have no column(s) {', '.join(absent)}")
    side = pd.DataFrame(
        {"customer_id": labels["customer_id"].astype(str), "segment": labels["segment"].astype(int)}
    )
    repeated = side["customer_id"][side["customer_id"].duplicated()]
    if not repeated.empty:
        raise SegmentationError(f"the {which} labels name customer '{repeated.iloc[0]}' more than once")
    return side


def _joined(old: pd.DataFrame | None, new: pd.DataFrame | None) -> pd.DataFrame | None:
    if old is None or new is None:
        return None
    return _side(old, "old").merge(_side(new, "new"), on="customer_id", suffixes=("_old", "_new"))


def _migration(joined: pd.DataFrame) -> Migration:
    table = pd.crosstab(joined["segment_old"], joined["segment_new"])
    return Migration(
        old_segments=tuple(int(s) for s in table.index),
        new_segments=tuple(int(s) for s in table.columns),
        counts=tuple(tuple(int(n) for n in row) for row in table.to_numpy()),
    )


def _ari(migration: Migration) -> float:
    """scikit-learn's adjusted_rand_score from the contingency table, in Python integers: pair
    counts over ordered pairs, and 1.0 when no pair is split one way and joined the other."""
    counts = [n for row in migration.counts for n in row]
    n = sum(counts)
    rows = [sum(row) for row in migration.counts]
    columns = [sum(column) for column in zip(*migration.counts, strict=True)]
    squares = sum(c * c for c in counts)
    tp = squares - n
    fp = sum(c * columns[j] for row in migration.counts for j, c in enumerate(row)) - squares
    fn = sum(c * rows[i] for i, row in enumerate(migration.counts) for c in row) - squares
    tn = n * n - fp - fn - squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _alignment(migration: Migration) -> tuple[tuple[SegmentMatch, ...], tuple[int, ...], tuple[int, ...]]:
    old = [i for i, s in enumerate(migration.old_segments) if s >= 0]
    new = [j for j, s in enumerate(migration.new_segments) if s >= 0]
    overlap = np.array([[migration.counts[i][j] for j in new] for i in old], dtype=np.int64).reshape(
        len(old), len(new)
    )
    old_sizes, new_sizes = overlap.sum(axis=1), overlap.sum(axis=0)
    matches = []
    for a, b in zip(*linear_sum_assignment(overlap, maximize=True), strict=True):
        shared = int(overlap[a, b])
        if shared:
            union = int(old_sizes[a] + new_sizes[b]) - shared
            matches.append(
                SegmentMatch(
                    migration.old_segments[old[a]], migration.new_segments[new[b]], shared, shared / union
                )
            )
    matched_old = {m.old_segment for m in matches}
    matched_new = {m.new_segment for m in matches}
    return (
        tuple(matches),
        tuple(migration.old_segments[i] for i in old if migration.old_segments[i] not in matched_old),
        tuple(migration.new_segments[j] for j in new if migration.new_segments[j] not in matched_new),
    )


def _with_shift(
    match: SegmentMatch, old: dict[int, dict[str, float]], new: dict[int, dict[str, float]]
) -> SegmentMatch:
    before, after = old.get(match.old_segment, {}), new.get(match.new_segment, {})
    shift = {f: after[f] - before[f] for f in after if f in before}
    return SegmentMatch(match.old_segment, match.new_segment, match.customers, match.jaccard, shift)
