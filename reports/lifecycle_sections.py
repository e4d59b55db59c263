"""The Lifecycle part of the deck and the report: CLV by segment, lifecycle states, likely movers,
and the data behind the cohort heatmap and the state diagram.

Read from a log's stored ``metrics["clv"]`` and ``metrics["lifecycle"]`` through their typed
views (:class:`segmentation.metrics.lifecycle.Clv`, ``LifecycleSummary``). A customer table, or
a version made before the lifecycle models, stored neither: :func:`lifecycle_content` is then
None and neither document gains a page. A part the run could not make (too few periods for the
states, say) is a sentence saying why, never a table of figures that were not measured.
Never imports Django or python-pptx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from segmentation.metrics.lifecycle import Clv, Holdout, LifecycleSummary
from segmentation.result import RunMetrics

from .formatting import DASH, format_count, format_number, format_share
from .reading import as_float, as_int, mapping
from .sections import Section, Table

CLV_TITLE = "Customer lifetime value by segment"
STATES_TITLE = "Lifecycle states"
MOVERS_TITLE = "Customers likely to turn dormant"
PART_WORDS = {"cohorts": "cohorts", "clv": "lifetime value", "states": "lifecycle states", "movers": "movers"}


@dataclass(frozen=True)
class CohortGrid:
    """The retention triangle: ``retention[i][j]`` is the share of cohort ``i``'s customers who
    bought in its ``offsets[j]``-th period, None where that period had not ended by as_of."""

    period: str
    cohorts: tuple[str, ...]
    offsets: tuple[int, ...]
    customers: tuple[int, ...]
    retention: tuple[tuple[float | None, ...], ...]
    older_customers: int = 0

    @property
    def observed(self) -> int:
        return sum(value is not None for row in self.retention for value in row)


@dataclass(frozen=True)
class StateDiagram:
    """The lifecycle states and ``transitions[i][j]``, the chance of moving from state i to j
    in the next period."""

    period: str
    names: tuple[str, ...]
    customers_now: tuple[int, ...]
    transitions: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class LifecycleContent:
    clv: Section | None
    states: Section | None
    movers: Section | None
    cohorts: CohortGrid | None
    diagram: StateDiagram | None

    @property
    def sections(self) -> tuple[Section, ...]:
        return tuple(s for s in (self.clv, self.states, self.movers) if s is not None)


def lifecycle_content(
    metrics: RunMetrics, *, discount_rate: float | None = None, names: Mapping[int, str] | None = None
) -> LifecycleContent | None:
    """The lifecycle part of both documents; None when the version stored no lifecycle report.

    ``discount_rate`` is the spec's annual CLV discount rate (the metrics do not store it);
    ``names`` the segments' names as the documents present them (else the names stored in the run).
    """
    summary = metrics.lifecycle
    if summary is None:
        return None
    names = dict(names or {})
    return LifecycleContent(
        clv=clv_section(summary, metrics.clv, discount_rate=discount_rate, names=names),
        states=states_section(summary, names=names),
        movers=movers_section(summary, names=names),
        cohorts=cohort_grid(summary.cohorts),
        diagram=state_diagram(summary),
    )


def _name(row: Mapping[str, Any], names: Mapping[int, str]) -> str:
    segment = as_int(row.get("segment"), default=-1)
    return names.get(segment) or str(row.get("name") or f"Segment {segment}")


def _records(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value or [] if isinstance(r, Mapping)] if isinstance(value, Sequence) else []


def _not_made(key: str, title: str, summary: LifecycleSummary) -> Section | None:
    why = summary.skipped.get(key)
    if not why:
        return None
    line = f"The {PART_WORDS[key]} could not be computed for this version: {why}."
    return Section(key, title, (("Not computed", (line,)),))


def _period_word(period: str, count: int = 1) -> str:
    return period if count == 1 else f"{period}s"


# -- CLV -------------------------------------------------------------------------------------


def clv_section(
    summary: LifecycleSummary,
    clv: Clv | None,
    *,
    discount_rate: float | None = None,
    names: Mapping[int, str] | None = None,
) -> Section | None:
    """Mean P(alive), mean CLV and share of all CLV per segment, with how it was modelled."""
    part = summary.clv
    if part is None:
        return _not_made("clv", CLV_TITLE, summary)
    names = names or {}
    horizon = as_int(part.get("horizon_days"))
    rows = tuple(
        (
            _name(row, names),
            format_count(as_int(row.get("customers"))),
            format_share(as_float(row.get("p_alive_mean"))),
            format_number(as_float(row.get("clv_mean"))),
            format_share(as_float(row.get("clv_share"))),
        )
        for row in _records(part.get("by_segment"))
    )
    rate = f", discounted at {format_share(discount_rate)} a year" if discount_rate is not None else ""
    table = Table(
        headers=("Segment", "Customers", "P(alive)", "Mean CLV", "Share of CLV"),
        rows=rows,
        numeric=(1, 2, 3, 4),
        caption=f"Expected spend over the next {horizon} days{rate}; P(alive) is the model's chance "
        "that a customer still buys.",
    )
    lines = [
        f"Total lifetime value over {horizon} days: {format_number(as_float(part.get('total')))} "
        f"as of {summary.as_of}."
    ]
    if clv is not None:
        lines.append(_models_sentence(clv, horizon, discount_rate, summary.as_of))
        if clv.holdout is not None:
            lines.append(holdout_sentence(clv.holdout))
    return Section("clv", CLV_TITLE, (("How it was valued", tuple(lines)),), table)


def _models_sentence(clv: Clv, horizon: int, discount_rate: float | None, as_of: str) -> str:
    rate = f" discounted at {format_share(discount_rate)} a year" if discount_rate is not None else ""
    fitted = f"fitted on the purchases of {format_count(clv.customers)} customers before {as_of}"
    if clv.pooled:
        return (
            f"Repeat purchases over the next {horizon} days are forecast by the BG/NBD model, {fitted}, "
            f"and valued{rate} at a pooled spend per purchase of {format_number(clv.pooled_spend_mean)}: "
            f"{clv.pooled_reason or 'the spend model could not be fitted'}."
        )
    return (
        f"Repeat purchases over the next {horizon} days are forecast by the BG/NBD model and spend per "
        f"purchase by the Gamma-Gamma model, both {fitted}; value{rate}."
    )


def holdout_sentence(holdout: Holdout) -> str:
    """The check of the purchase model on the log's events after as_of."""
    weeks = DASH if holdout.weeks is None else f"{holdout.weeks:.0f}"
    predicted = DASH if holdout.predicted is None else f"{holdout.predicted:,.0f}"
    actual = DASH if holdout.actual is None else f"{holdout.actual:,.0f}"
    error = DASH if holdout.mean_absolute_error is None else f"{holdout.mean_absolute_error:.2f}"
    return (
        f"Checked on the {weeks} weeks after {holdout.as_of} (to {holdout.holdout_end}): the model "
        f"expected {predicted} repeat purchases from {format_count(holdout.customers)} customers and "
        f"{actual} were made; mean absolute error {error} purchases per customer."
    )


# -- states ----------------------------------------------------------------------------------


def states_section(summary: LifecycleSummary, *, names: Mapping[int, str] | None = None) -> Section | None:
    """Each lifecycle state's behaviour and size now, and each segment's mean churn probability."""
    part = summary.states
    if part is None:
        return _not_made("states", STATES_TITLE, summary)
    names = names or {}
    period = summary.period
    rows = tuple(
        (
            str(row.get("state") or DASH),
            format_number(as_float(row.get("purchases_per_period"))),
            format_number(as_float(row.get("spend_per_purchase"))),
            format_count(as_int(row.get("customers_now"))),
            format_share(as_float(row.get("stay_probability"))),
            format_share(as_float(row.get("to_dormant"))),
        )
        for row in _records(part.get("states"))
    )
    table = Table(
        headers=(
            "State",
            f"Purchases per {period}",
            "Spend per purchase",
            "Customers now",
            "Stay",
            "To dormant",
        ),
        rows=rows,
        numeric=(1, 2, 3, 4, 5),
        caption=f"Stay and to dormant: the chance of being in that state, or dormant, next {period}.",
    )
    churn = tuple(
        f"{_name(row, names)}: {format_share(as_float(row.get('churn_probability_mean')))} on average."
        for row in _records(part.get("by_segment"))
    )
    bic = mapping(part.get("bic"))
    tried = sorted(as_int(k) for k in bic) if bic else []
    span = f" among {tried[0]} to {tried[-1]}" if tried else ""
    found = (
        f"{as_int(part.get('chosen_states'))} states chosen by BIC{span}, from a hidden Markov model of "
        f"{format_count(as_int(part.get('fitted_customers')))} customers' purchases and spend per complete "
        f"{period} through {part.get('through') or DASH}.",
    )
    groups = (
        ("How the states were found", found),
        (f"Chance of turning dormant next {period}, by segment", churn),
    )
    return Section("states", STATES_TITLE, groups, table)


def state_diagram(summary: LifecycleSummary) -> StateDiagram | None:
    part = summary.states
    if part is None:
        return None
    names = tuple(str(n) for n in part.get("names") or [])
    by_state = {str(r.get("state")): r for r in _records(part.get("states"))}
    matrix = tuple(tuple(as_float(p) or 0.0 for p in row) for row in part.get("transition_matrix") or [])
    if not names or len(matrix) != len(names):
        return None
    counts = tuple(as_int(mapping(by_state.get(n)).get("customers_now")) for n in names)
    return StateDiagram(summary.period, names, counts, matrix)


# -- movers and cohorts ----------------------------------------------------------------------


def movers_section(summary: LifecycleSummary, *, names: Mapping[int, str] | None = None) -> Section | None:
    """How many customers, by segment, are more likely than not to be dormant soon (movers.csv)."""
    part = summary.movers
    if part is None:
        return _not_made("movers", MOVERS_TITLE, summary)
    names = names or {}
    periods = as_int(part.get("periods"))
    threshold = format_share(as_float(part.get("threshold")))
    period = _period_word(summary.period, periods)
    rows = tuple(
        (_name(row, names), format_count(as_int(row.get("customers"))))
        for row in _records(part.get("by_segment"))
    )
    total = as_int(part.get("customers"))
    lines = (
        f"{format_count(total)} customers not dormant now have a chance of {threshold} or more of being "
        f"dormant within {periods} {period}.",
        "Each is listed in movers.csv with their segment, current state and that chance: a list to "
        "reach before they lapse.",
    )
    table = Table(
        headers=("Segment", "Likely to turn dormant"),
        rows=rows,
        numeric=(1,),
        caption=f"Customers whose chance of being dormant within {periods} {period} is {threshold} or more.",
    )
    return Section("movers", MOVERS_TITLE, (("Who they are", lines),), table if rows else None)


def cohort_grid(part: Mapping[str, Any] | None) -> CohortGrid | None:
    if part is None or not part.get("cohorts"):
        return None
    retention = tuple(tuple(as_float(v) for v in row) for row in part.get("retention") or [])
    return CohortGrid(
        period=str(part.get("period") or "month"),
        cohorts=tuple(str(c) for c in part.get("cohorts") or []),
        offsets=tuple(as_int(o) for o in part.get("offsets") or []),
        customers=tuple(as_int(n) for n in part.get("customers") or []),
        retention=retention,
        older_customers=as_int(part.get("older_customers")),
    )
