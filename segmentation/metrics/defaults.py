"""What the field's defaults chose for a run (``metrics["defaults"]``, see :mod:`segmentation.defaults`).

Versions made before the defaults existed, and runs where the user made every choice, stored no
``defaults``: they read as ``None`` and their stored spec says what ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r


@dataclass(frozen=True)
class ColumnDefault(r.Stored):
    """One column's transform as the heavy-tail rule chose it, why, and its skewness."""

    transform: str = "zscore"
    why: str = ""
    skewness: float | None = None
    skewness_after_log: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ColumnDefault:
        d = r.mapping(data)
        return cls(
            transform=r.text(d.get("transform"), "zscore"),
            why=r.text(d.get("why")),
            skewness=r.number(d.get("skewness")),
            skewness_after_log=r.number(d.get("skewness_after_log")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class ReductionDefault(r.Stored):
    """The reduction the defaults chose (``"pca"`` or ``"none"``) for ``features`` columns, and why."""

    reduction: str = "none"
    features: int = 0
    why: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ReductionDefault | None:
        d = r.mapping(data)
        if not d:
            return None
        return cls(
            reduction=r.text(d.get("reduction"), "none"),
            features=r.integer(d.get("features")),
            why=r.text(d.get("why")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class FieldDefaults(r.Stored):
    """The rule's decision for each column the user left to it, and the reduction it chose
    (None when the user chose the reduction)."""

    transforms: dict[str, ColumnDefault] = field(default_factory=dict)
    reduction: ReductionDefault | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> FieldDefaults | None:
        d = r.mapping(data)
        if not d:
            return None
        columns = r.mapping(d.get("transforms"))
        return cls(
            transforms={str(c): ColumnDefault.from_dict(v) for c, v in columns.items() if v is not None},
            reduction=ReductionDefault.from_dict(d.get("reduction")),
            raw=r.frozen_copy(dict(d)),
        )

    @property
    def logged(self) -> list[str]:
        return [c for c, d in self.transforms.items() if d.transform == "log1p"]

    def sentences(self) -> list[str]:
        """The choices in words, for the results page and the documents."""
        lines = []
        logged = self.logged
        if logged:
            reasons = "; ".join(f"{c}: {self.transforms[c].why}" for c in logged)
            verb = "was" if len(logged) == 1 else "were"
            lines.append(f"{_and(logged)} {verb} log-transformed before z-scoring ({reasons}).")
        kept = [c for c in self.transforms if c not in logged]
        if kept:
            reasons = "; ".join(f"{c}: {self.transforms[c].why}" for c in kept)
            lines.append(f"Z-scored as they are: {reasons}.")
        if self.reduction is not None:
            done = "PCA" if self.reduction.reduction == "pca" else "No reduction"
            lines.append(f"{done}: {self.reduction.why}.")
        return lines


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
