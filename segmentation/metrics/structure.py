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
class Structure(r.Stored):
    """``verdict`` is "clustered", "weak", "none" or None (not tested); ``gap_k`` and ``bic_k`` the
    numbers of groups the gap statistic and the mixture's BIC chose."""

    verdict: str | None = None
    gap_k: int | None = None
    bic_k: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Structure:
        d = r.mapping(data)
        evidence = r.mapping(d.get("evidence"))
        verdict = d.get("verdict")
        return cls(
            verdict=verdict if verdict in VERDICTS else None,
            gap_k=r.optional_integer(r.mapping(evidence.get("gap")).get("k")),
            bic_k=r.optional_integer(r.mapping(evidence.get("bic")).get("k")),
            raw=r.frozen_copy(dict(d)),
        )

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
