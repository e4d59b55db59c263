"""The lifecycle models as stored: ``metrics["clv"]`` (the BG/NBD and Gamma-Gamma fits and their
holdout check) and ``metrics["lifecycle"]`` (cohorts, CLV by segment, lifecycle states, likely
movers; the same dict as ``lifecycle.json``).

Versions made before the lifecycle models, and customer tables, stored neither: they read as
None, so no page shows a lifetime value or a state that was never modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r


@dataclass(frozen=True)
class HoldoutGroup(r.Stored):
    frequency: str = ""
    customers: int = 0
    predicted_mean: float | None = None
    actual_mean: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> HoldoutGroup:
        d = r.mapping(data)
        return cls(
            frequency=r.text(d.get("frequency")),
            customers=r.integer(d.get("customers")),
            predicted_mean=r.number(d.get("predicted_mean")),
            actual_mean=r.number(d.get("actual_mean")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Holdout(r.Stored):
    """Predicted against actual repeat purchase days after ``as_of`` (the log ran past it)."""

    as_of: str = ""
    holdout_end: str = ""
    weeks: float | None = None
    customers: int = 0
    predicted: float | None = None
    actual: float | None = None
    mean_absolute_error: float | None = None
    by_frequency: tuple[HoldoutGroup, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Holdout | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            as_of=r.text(data.get("as_of")),
            holdout_end=r.text(data.get("holdout_end")),
            weeks=r.number(data.get("weeks")),
            customers=r.integer(data.get("customers")),
            predicted=r.number(data.get("predicted")),
            actual=r.number(data.get("actual")),
            mean_absolute_error=r.number(data.get("mean_absolute_error")),
            by_frequency=tuple(HoldoutGroup.from_dict(g) for g in r.records(data.get("by_frequency"))),
            raw=r.frozen_copy(dict(data)),
        )


@dataclass(frozen=True)
class PooledSpend(r.Stored):
    """The repeat buyers' pooled mean spend a purchase day, when the Gamma-Gamma model had no fit."""

    mean: float | None = None
    customers: int = 0
    reason: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> PooledSpend | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            mean=r.number(data.get("mean")),
            customers=r.integer(data.get("customers")),
            reason=r.optional_text(data.get("reason")),
            raw=r.frozen_copy(dict(data)),
        )


@dataclass(frozen=True)
class Clv(r.Stored):
    """``time_unit`` weeks; ``bgnbd`` r, alpha, a, b; ``gamma_gamma`` p, q, v (None when the
    spend model was pooled: customers' mean spends differed no more than chance, so every
    customer is valued at ``pooled_spend.mean``, for ``pooled_spend.reason``)."""

    time_unit: str = "weeks"
    bgnbd: dict[str, float] = field(default_factory=dict)
    gamma_gamma: dict[str, float] | None = None
    log_likelihood: float | None = None
    customers: int = 0
    holdout: Holdout | None = None
    pooled_spend: PooledSpend | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def pooled(self) -> bool:
        return self.pooled_spend is not None and self.pooled_spend.mean is not None

    @property
    def pooled_spend_mean(self) -> float | None:
        return None if self.pooled_spend is None else self.pooled_spend.mean

    @property
    def pooled_reason(self) -> str | None:
        return None if self.pooled_spend is None else self.pooled_spend.reason

    @classmethod
    def from_dict(cls, data: Any) -> Clv | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("bgnbd"), Mapping):
            return None
        return cls(
            time_unit=r.text(data.get("time_unit"), "weeks"),
            bgnbd=r.named_numbers(data.get("bgnbd")),
            gamma_gamma=r.named_numbers(data["gamma_gamma"])
            if isinstance(data.get("gamma_gamma"), Mapping)
            else None,
            log_likelihood=r.number(data.get("log_likelihood")),
            customers=r.integer(data.get("customers")),
            holdout=Holdout.from_dict(data.get("holdout")),
            pooled_spend=PooledSpend.from_dict(data.get("pooled_spend")),
            raw=r.frozen_copy(dict(data)),
        )


@dataclass(frozen=True)
class LifecycleSummary(r.Stored):
    """The parts of ``lifecycle.json``, each a JSON mapping (None when not made; ``skipped``
    says why): ``cohorts``, ``clv`` (by segment), ``states``, ``movers``."""

    as_of: str = ""
    period: str = "month"
    cohorts: Mapping[str, Any] | None = None
    clv: Mapping[str, Any] | None = None
    states: Mapping[str, Any] | None = None
    movers: Mapping[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> LifecycleSummary | None:
        if not isinstance(data, Mapping):
            return None

        def part(key: str) -> Mapping[str, Any] | None:
            value = data.get(key)
            return r.frozen_copy(dict(value)) if isinstance(value, Mapping) else None

        return cls(
            as_of=r.text(data.get("as_of")),
            period=r.text(data.get("period"), "month"),
            cohorts=part("cohorts"),
            clv=part("clv"),
            states=part("states"),
            movers=part("movers"),
            skipped=r.named_texts(data.get("skipped")),
            raw=r.frozen_copy(dict(data)),
        )
