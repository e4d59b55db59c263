"""The structure test's verdict as stored (``metrics["structure"]``) and the k cap a run applied.

Versions made before the test stored neither: their verdict reads as ``None`` (not tested), so
no page claims a verdict that was never measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..clustering.structure import VERDICTS, structure_sentence
from . import reading as r


@dataclass(frozen=True)
class GapPoint(r.Stored):
    k: int = 0
    gap: float | None = None
    s: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> GapPoint:
        d = r.mapping(data)
        return cls(
            k=r.integer(d.get("k")),
            gap=r.number(d.get("gap")),
            s=r.number(d.get("s")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class BicPoint(r.Stored):
    k: int = 0
    bic: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> BicPoint:
        d = r.mapping(data)
        return cls(k=r.integer(d.get("k")), bic=r.number(d.get("bic")), raw=r.frozen_copy(dict(d)))


@dataclass(frozen=True)
class Chosen(r.Stored):
    """One measurement's chosen number of groups ``k`` and its figure per k tried."""

    k: int | None = None
    by_k: tuple[Any, ...] = ()
    rise: float | None = None  # the gap statistic's: its maximum above Gap(1)
    groups_too_small_at_k: tuple[int, ...] = ()  # the gap statistic's: k it could not choose
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, *, point: type[GapPoint] | type[BicPoint]) -> Chosen:
        d = r.mapping(data)
        return cls(
            k=r.optional_integer(d.get("k")),
            rise=r.number(d.get("rise")),
            groups_too_small_at_k=r.integers(d.get("groups_too_small_at_k")),
            by_k=tuple(point.from_dict(p) for p in r.records(d.get("by_k"))),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class ComponentDip(r.Stored):
    """The dip test on one leading principal component; ``skipped`` says why it was not tested."""

    component: int = 0
    share_of_variance: float | None = None
    dip: float | None = None
    p_value: float | None = None
    adjusted_p: float | None = None
    skipped: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> ComponentDip:
        d = r.mapping(data)
        return cls(
            component=r.integer(d.get("component")),
            share_of_variance=r.number(d.get("share_of_variance")),
            dip=r.number(d.get("dip")),
            p_value=r.number(d.get("p_value")),
            adjusted_p=r.number(d.get("adjusted_p")),
            skipped=r.text(d.get("skipped")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Dip(r.Stored):
    """Hartigan's dip test across the leading components: ``multimodal`` after Holm's adjustment."""

    multimodal: bool | None = None
    alpha: float | None = None
    by_component: tuple[ComponentDip, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Dip:
        d = r.mapping(data)
        multimodal = d.get("multimodal")
        return cls(
            multimodal=multimodal if isinstance(multimodal, bool) else None,
            alpha=r.number(d.get("alpha")),
            by_component=tuple(ComponentDip.from_dict(c) for c in r.records(d.get("by_component"))),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Evidence(r.Stored):
    """How many customers were tested against how many uniform references, and what each
    measurement chose."""

    rows_tested: int | None = None
    references: int | None = None
    gap: Chosen = field(default_factory=Chosen)
    bic: Chosen = field(default_factory=Chosen)
    dip: Dip = field(default_factory=Dip)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Evidence:
        d = r.mapping(data)
        return cls(
            rows_tested=r.optional_integer(d.get("rows_tested")),
            references=r.optional_integer(d.get("references")),
            gap=Chosen.from_dict(d.get("gap"), point=GapPoint),
            bic=Chosen.from_dict(d.get("bic"), point=BicPoint),
            dip=Dip.from_dict(d.get("dip")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Structure(r.Stored):
    """``verdict`` is "clustered", "weak", "none" or None (not tested), with its ``evidence``."""

    verdict: str | None = None
    evidence: Evidence = field(default_factory=Evidence)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Structure:
        d = r.mapping(data)
        verdict = d.get("verdict")
        return cls(
            verdict=verdict if verdict in VERDICTS else None,
            evidence=Evidence.from_dict(d.get("evidence")),
            raw=r.frozen_copy(dict(d)),
        )

    @property
    def gap_k(self) -> int | None:
        return self.evidence.gap.k

    @property
    def bic_k(self) -> int | None:
        return self.evidence.bic.k

    @property
    def recommends_none(self) -> bool:
        """True when the test found no more structure than random data: no segmentation recommended."""
        return self.verdict == "none"

    @property
    def sentence(self) -> str:
        """The verdict and its evidence in words; empty for a version that was never tested."""
        return structure_sentence(dict(self.raw)) if self.verdict else ""


@dataclass(frozen=True)
class KCap(r.Stored):
    """The spec's 'k_max' lowered for a small table, with the sentence that says why (empty when not)."""

    requested_k_max: int | None = None
    k_max: int | None = None
    note: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> KCap:
        d = r.mapping(data)
        return cls(
            requested_k_max=r.optional_integer(d.get("requested_k_max")),
            k_max=r.optional_integer(d.get("k_max")),
            note=r.text(d.get("note"), ""),
            raw=r.frozen_copy(dict(d)),
        )
