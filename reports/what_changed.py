"""The "What changed" section of a retrained version's deck and report.

A refresh that found drift starts a retraining run (:mod:`monitoring.refresh`) and stores why on
the run (``SegmentationRun.origin``): the deployed version, the check's date and level, the
features that moved and the segment shares at the check. This section says so, and what the new
version changes against the deployed one (k, algorithm, segments and their shares, customers
moving), from :func:`segmentation.compare.compare_segmentations` as the version page's diff has it.
A version made by hand has no origin and no such section. Never imports Django: the caller
(``reports.services``) reads the records and passes plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from segmentation.compare import Comparison, SegmentSummary

from .formatting import DASH, algorithm_label, feature_label, format_count, format_metric
from .reading import as_float, as_int, mapping
from .sections import Section, Table

LEVEL_WORDS = {"none": "no drift", "warning": "a warning", "drift": "drift"}
MAX_FEATURES = 5


def share_text(value: float | None) -> str:
    """A share at one decimal, as the monitoring page shows it (25.0%), so changes of a point read."""
    return DASH if value is None else f"{value * 100:.1f}%"


@dataclass(frozen=True)
class DriftedFeature:
    feature: str
    level: str
    test: str
    statistic: float | None


@dataclass(frozen=True)
class ShareChange:
    segment: int
    name: str
    reference: float | None
    current: float | None


@dataclass(frozen=True)
class RetrainingOrigin:
    """The typed view of a retraining run's ``origin``."""

    deployed_version: int | None
    deployed_label: str
    check: int | None
    checked_at: datetime | None
    overall_level: str
    features: tuple[DriftedFeature, ...]
    shares: tuple[ShareChange, ...]

    @classmethod
    def from_dict(cls, raw: Any) -> RetrainingOrigin | None:
        """The origin of a retraining; None for any other run (made by hand, or an older one)."""
        raw = mapping(raw)
        if raw.get("kind") != "retraining":
            return None
        try:
            checked_at = datetime.fromisoformat(str(raw.get("checked_at")))
        except ValueError:
            checked_at = None
        features = tuple(
            DriftedFeature(
                feature=str(f.get("feature", "")),
                level=str(f.get("level", "")),
                test=str(f.get("test_name") or f.get("test") or ""),
                statistic=as_float(f.get("statistic")),
            )
            for f in raw.get("drifted_features") or []
            if isinstance(f, Mapping)
        )
        shares = tuple(
            ShareChange(
                segment=as_int(s.get("segment"), default=-1),
                name=str(s.get("name") or ""),
                reference=as_float(s.get("reference_share")),
                current=as_float(s.get("current_share")),
            )
            for s in raw.get("segment_shares") or []
            if isinstance(s, Mapping)
        )
        deployed = raw.get("deployed_version")
        return cls(
            deployed_version=as_int(deployed) if deployed is not None else None,
            deployed_label=str(raw.get("deployed_label") or "the deployed version"),
            check=as_int(raw.get("check")) if raw.get("check") is not None else None,
            checked_at=checked_at,
            overall_level=str(raw.get("overall_level") or "drift"),
            features=features,
            shares=shares,
        )


def _date(value: datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else "an unrecorded date"


def _feature_line(f: DriftedFeature) -> str:
    statistic = DASH if f.statistic is None else f"{f.statistic:.3g}"
    return (
        f"{feature_label(f.feature)}: {LEVEL_WORDS.get(f.level, f.level)} ({f.test}, statistic {statistic})."
    )


def _why(origin: RetrainingOrigin) -> tuple[str, ...]:
    check = f" (check {origin.check})" if origin.check is not None else ""
    lines = [
        f"A refresh on {_date(origin.checked_at)} found {LEVEL_WORDS.get(origin.overall_level, origin.overall_level)} "
        f"in the data of the deployed version {origin.deployed_label}{check}; this version was retrained on "
        "that data."
    ]
    drifted = sorted(origin.features, key=lambda f: f.level != "drift")  # drift first, then warnings
    lines += [_feature_line(f) for f in drifted[:MAX_FEATURES]]
    if len(drifted) > MAX_FEATURES:
        lines.append(f"… and {len(drifted) - MAX_FEATURES} more feature(s) with a warning or drift.")
    if not drifted:
        lines.append("No single feature moved beyond its thresholds: the level came from the segments.")
    return tuple(lines)


def _segments_text(label: str, sides: Sequence[SegmentSummary | None], numbers: Sequence[int]) -> str:
    total = sum(s.size or 0 for s in sides if s is not None)
    parts = []
    for number, side in zip(numbers, sides, strict=True):
        if side is None:
            continue
        share = side.share if side.share is not None else ((side.size or 0) / total if total else None)
        parts.append(f"{number} {side.name or f'Segment {number}'} {share_text(share)}")
    return f"{label}: " + ("; ".join(parts) if parts else "no segments") + "."


def _migration_line(comparison: Comparison, note: str, deployed: str) -> str:
    common = comparison.common_customers
    if comparison.migration is None or not common:
        return f"Customers migrating: not measured ({note})."
    stayed = sum(m.customers for m in comparison.alignment)
    moved = common - stayed
    agreement = format_metric(comparison.agreement, 2)
    return (
        f"Customers migrating ({note}): {format_count(moved)} of {format_count(common)} "
        f"({moved / common:.1%}) are in a segment other than the one continuing their segment of "
        f"{deployed} (adjusted Rand {agreement})."
    )


def _against(
    origin: RetrainingOrigin, version: str, comparison: Comparison | None, note: str
) -> tuple[str, ...]:
    deployed = origin.deployed_label
    if comparison is None:
        return (f"The comparison with {deployed} could not be computed: {note}.",)
    old, new = comparison.old_selected, comparison.new_selected
    pairs = comparison.segments
    numbers = [p.segment for p in pairs]
    return (
        f"Segments (k): {comparison.old_k} in {deployed}, {comparison.new_k} in {version}; algorithm "
        f"{algorithm_label(old.algorithm or DASH)} → {algorithm_label(new.algorithm or DASH)}.",
        _segments_text(deployed, [p.old for p in pairs], numbers),
        _segments_text(version, [p.new for p in pairs], numbers),
        _migration_line(comparison, note, deployed),
    )


def what_changed_section(
    origin: RetrainingOrigin, *, version: str, comparison: Comparison | None, note: str
) -> Section:
    """Why ``version`` was retrained and how it differs from the deployed version.

    ``comparison`` is None when it could not be computed; ``note`` then says why, else where
    the migration's labels come from (governance.diff)."""
    rows = tuple(
        (str(s.segment), s.name, share_text(s.reference), share_text(s.current)) for s in origin.shares
    )
    table = Table(
        headers=("Segment", "Name", "Reference", "At the check"),
        rows=rows,
        numeric=(0, 2, 3),
        caption=f"Shares of {origin.deployed_label}'s segments: its reference customers, then the "
        f"refreshed data on {_date(origin.checked_at)}.",
    )
    return Section(
        "what_changed",
        "What changed",
        (
            ("Why it was retrained", _why(origin)),
            (f"Against {origin.deployed_label}", _against(origin, version, comparison, note)),
        ),
        table if rows else None,
    )
