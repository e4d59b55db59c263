"""The explanations in the metrics: surrogate rules and outcome associations.

``rules`` is :func:`segmentation.explain.rules.rules_json` plus ``sql_case``, stored since the
rules were added (absent before, and when a tree could not be grown). ``outcomes`` is one
:func:`segmentation.explain.outcomes.outcome_association` per outcome column the spec named.
``out_of_time`` is :func:`segmentation.explain.out_of_time.out_of_time_check`: the window after
``as_of`` and its outcomes in the same shape (absent before the check existed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r


@dataclass(frozen=True)
class RuleCondition:
    feature: str
    op: str  # "<=" or ">"
    threshold: float | None


@dataclass(frozen=True)
class Rule(r.Stored):
    """One leaf of the surrogate tree: the conditions that send a customer to ``segment``."""

    segment: int | None = None
    segment_name: str = ""
    conditions: tuple[RuleCondition, ...] = ()
    text: str = ""
    support: float | None = None  # share of customers the rule covers
    precision: float | None = None  # share of those the segmentation puts in ``segment``
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Rule:
        d = r.mapping(data)
        conditions = tuple(
            RuleCondition(str(c.get("feature")), str(c.get("op")), r.number(c.get("threshold")))
            for c in r.records(d.get("conditions"))
        )
        return cls(
            segment=r.optional_integer(d.get("segment")),
            segment_name=r.text(d.get("segment_name")),
            conditions=conditions,
            text=r.text(d.get("text")),
            support=r.number(d.get("support")),
            precision=r.number(d.get("precision")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Rules(r.Stored):
    """The decision-tree surrogate: its rules, how faithful it is, and one SQL CASE."""

    fidelity: float | None = None  # agreement with the segmentation on held-out customers
    train_fidelity: float | None = None
    max_depth: int | None = None
    features: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    importance: dict[int, dict[str, float]] = field(default_factory=dict)  # segment -> feature -> weight
    sql_case: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def for_segment(self, segment: int) -> tuple[Rule, ...]:
        """The rules that assign ``segment``, largest support first."""
        mine = [rule for rule in self.rules if rule.segment == segment]
        return tuple(sorted(mine, key=lambda rule: -(rule.support or 0.0)))

    @classmethod
    def from_dict(cls, data: Any) -> Rules | None:
        d = r.mapping(data)
        if not d:
            return None
        importance = {}
        for key, weights in r.mapping(d.get("importance")).items():
            segment = r.optional_integer(key)
            if segment is not None:
                importance[segment] = r.named_numbers(weights)
        return cls(
            fidelity=r.number(d.get("fidelity")),
            train_fidelity=r.number(d.get("train_fidelity")),
            max_depth=r.optional_integer(d.get("max_depth")),
            features=r.texts(d.get("features")),
            rules=tuple(Rule.from_dict(rule) for rule in r.records(d.get("rules"))),
            importance=importance,
            sql_case=r.text(d.get("sql_case")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class OutcomeSegment:
    """One segment's outcome: a rate for a 0/1 outcome, a mean (and median) otherwise,
    with its 95% interval."""

    segment: int
    n: int
    rate: float | None = None
    mean: float | None = None
    median: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None  # this segment against the rest of the customers
    p_adjusted: float | None = None  # Benjamini-Hochberg over the run's per-segment tests
    rest_n: int | None = None  # the rest of the customers, absent before it was kept
    rest_rate: float | None = None
    rest_mean: float | None = None

    @property
    def value(self) -> float | None:
        """The rate of a 0/1 outcome, else the mean."""
        return self.rate if self.rate is not None else self.mean

    @property
    def rest_value(self) -> float | None:
        return self.rest_rate if self.rest_rate is not None else self.rest_mean


@dataclass(frozen=True)
class Outcome(r.Stored):
    """How one outcome column differs between segments (external validation)."""

    outcome: str = ""
    kind: str = "mean"  # "rate" (0/1 outcome) or "mean"
    rows_left_out: int = 0
    segments: tuple[OutcomeSegment, ...] = ()
    test: str | None = None  # "chi_square" or "kruskal_wallis"; None when not testable
    statistic: float | None = None
    p_value: float | None = None
    effect_size: float | None = None
    effect_size_name: str = ""
    p_adjusted: float | None = None  # Benjamini-Hochberg over the run's outcomes
    p_value_method: str | None = None  # "asymptotic" or "monte_carlo_<permutations>"
    mapping: Mapping[str, float] | None = None  # how a yes/no outcome's words were read
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def significant(self) -> bool | None:
        """Below 5% after the adjustment for the run's tests (before it, for older versions)."""
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        return None if p is None else p < 0.05

    @classmethod
    def from_dict(cls, data: Any) -> Outcome:
        d = r.mapping(data)
        segments = []
        for s in r.records(d.get("segments")):
            number = r.optional_integer(s.get("segment"))
            if number is None:
                continue
            segments.append(
                OutcomeSegment(
                    segment=number,
                    n=r.integer(s.get("n")),
                    rest_n=r.optional_integer(s.get("rest_n")),
                    **{
                        key: r.number(s.get(key))
                        for key in (
                            "rate",
                            "mean",
                            "median",
                            "ci_low",
                            "ci_high",
                            "p_value",
                            "p_adjusted",
                            "rest_rate",
                            "rest_mean",
                        )
                    },
                )
            )
        return cls(
            outcome=r.text(d.get("outcome")),
            kind=r.text(d.get("kind"), "mean"),
            rows_left_out=r.integer(d.get("rows_left_out")),
            segments=tuple(segments),
            test=r.optional_text(d.get("test")),
            statistic=r.number(d.get("statistic")),
            p_value=r.number(d.get("p_value")),
            effect_size=r.number(d.get("effect_size")),
            effect_size_name=r.text(d.get("effect_size_name")),
            p_adjusted=r.number(d.get("p_adjusted")),
            p_value_method=r.optional_text(d.get("p_value_method")),
            mapping=_mapping(d.get("mapping")),
            raw=r.frozen_copy(dict(d)),
        )


def _mapping(value: Any) -> Mapping[str, float] | None:
    if not isinstance(value, Mapping):
        return None
    read = {str(word): r.number(number) for word, number in value.items()}
    return {word: number for word, number in read.items() if number is not None} or None


@dataclass(frozen=True)
class OutOfTime(r.Stored):
    """The out-of-time check of a transaction log: the segments chosen at ``as_of`` against
    what their customers did from ``window_start`` to ``window_end`` (both included).

    ``recorded`` is false for versions made before the check existed; ``possible`` false with
    a ``reason`` when it could not be made (a customer table, a log that ends before ``as_of``).
    """

    recorded: bool = False
    possible: bool = False
    reason: str | None = None
    as_of: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    window_days: int = 0
    customers: int = 0
    customers_returned: int = 0
    events_in_window: int = 0
    new_customers: int = 0
    outcomes: tuple[Outcome, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> OutOfTime:
        if not isinstance(data, Mapping):
            return cls()
        d = data
        return cls(
            recorded=True,
            possible=d.get("possible") is True,
            reason=r.optional_text(d.get("reason")),
            as_of=r.optional_text(d.get("as_of")),
            window_start=r.optional_text(d.get("window_start")),
            window_end=r.optional_text(d.get("window_end")),
            window_days=r.integer(d.get("window_days")),
            customers=r.integer(d.get("customers")),
            customers_returned=r.integer(d.get("customers_returned")),
            events_in_window=r.integer(d.get("events_in_window")),
            new_customers=r.integer(d.get("new_customers")),
            outcomes=tuple(Outcome.from_dict(o) for o in r.records(d.get("outcomes"))),
            raw=r.frozen_copy(dict(d)),
        )
