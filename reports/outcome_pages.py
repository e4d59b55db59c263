"""The outcome page of the deck and the report, and the words every outcome finding reads in.

One :class:`Section` per declared outcome column and per out-of-time outcome (came back, spend
after ``as_of``): a table of segment, customers, rate or mean with its 95% interval and the
segment's adjusted p against the rest, then the overall test and a one-line reading. With
nothing to show, one section says so and where outcome columns are declared. The results page
(``runs.findings``) reads its test sentences and out-of-time lines from here, so the page and
the documents say the same. The figures are the engine's (``segmentation.explain.outcomes``,
``segmentation.explain.out_of_time``); nothing is computed here. Never imports Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from segmentation.result import Outcome, OutcomeSegment, OutOfTime, RunMetrics

from .formatting import DASH, feature_label, format_count, format_number
from .plain import outcome_lines
from .sections import Section, Table

TEST_NAMES = {
    "chi_square": "chi-square test of independence (segment × outcome)",
    "kruskal_wallis": "Kruskal–Wallis test (no normality assumed)",
}
EFFECT_NAMES = {"cramers_v": "Cramér's V", "epsilon_squared": "epsilon-squared (ε²)"}
OUT_OF_TIME_LABELS = {"bought_again": "Bought again", "spend_after_as_of": "Spend after as_of"}
OUT_OF_TIME_TITLES = {"bought_again": "bought again", "spend_after_as_of": "spend"}
DECLARE_WHERE = (
    "To check the segments against an outcome (churn, revenue, conversion), tick it under the run "
    "form's outcome columns and run again; outcomes are never clustering features."
)
NOT_RECORDED = "this version was made before the out-of-time check existed"


def percent(value: float | None) -> str:
    """A share with one decimal, so the figures of one table line up and compare."""
    return DASH if value is None else f"{100 * value:.1f}%"


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def segment_p(segment: OutcomeSegment) -> str:
    """The segment-against-the-rest p, adjusted (unadjusted for versions made before BH)."""
    p = segment.p_adjusted if segment.p_adjusted is not None else segment.p_value
    return DASH if p is None else "< 0.001" if p < 0.001 else f"{p:.3f}"


def day_text(iso: str | None) -> str:
    """'2025-07-01' as '1 July 2025'; the text as it is when it is not an ISO date."""
    try:
        day = dt.date.fromisoformat(iso or "")
    except ValueError:
        return iso or DASH
    return f"{day.day} {day:%B %Y}"


def outcome_label(outcome: Outcome) -> str:
    return OUT_OF_TIME_LABELS.get(outcome.outcome) or feature_label(outcome.outcome)


def _show(outcome: Outcome) -> Callable[[float | None], str]:
    return percent if outcome.kind == "rate" else format_number


def segment_value(outcome: Outcome, segment: OutcomeSegment) -> str:
    return _show(outcome)(segment.value)


def segment_interval(outcome: Outcome, segment: OutcomeSegment) -> str:
    show = _show(outcome)
    return f"{show(segment.ci_low)} – {show(segment.ci_high)}"


def _monte_carlo(outcome: Outcome) -> bool:
    return bool(outcome.p_value_method and outcome.p_value_method.startswith("monte_carlo"))


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]  # "Kruskal–Wallis" keeps its capital W


def test_sentence(outcome: Outcome) -> str:
    """The overall test in one sentence: statistic, p before and after the adjustment, effect size."""
    if outcome.test is None or outcome.statistic is None or outcome.p_value is None:
        return "No test was run: fewer than two segments or a single outcome value."
    statistic = "χ²" if outcome.test == "chi_square" else "H"
    effect = EFFECT_NAMES.get(outcome.effect_size_name, outcome.effect_size_name)
    verdict = (
        "a difference too large to be chance" if outcome.significant else "a difference that may be chance"
    )
    how = " by a Monte-Carlo permutation test (the table is sparse)" if _monte_carlo(outcome) else ""
    adjusted = (
        f", {p_text(outcome.p_adjusted)} after adjusting for the run's tests (Benjamini–Hochberg)"
        if outcome.p_adjusted is not None
        else ""
    )
    mapping = (
        " Read as " + ", ".join(f"{word} = {number:g}" for word, number in outcome.mapping.items()) + "."
        if outcome.mapping
        else ""
    )
    return (
        f"{_first_upper(TEST_NAMES.get(outcome.test, outcome.test))}: {statistic} = "
        f"{outcome.statistic:.1f}, {p_text(outcome.p_value)}{how}{adjusted} ({verdict}); "
        f"effect size {effect} = {format_number(outcome.effect_size)}.{mapping}"
    )


# -- out of time -----------------------------------------------------------------------------


def out_of_time_reason(check: OutOfTime) -> str:
    """Why no out-of-time check was made, as a sentence."""
    reason = (check.reason or NOT_RECORDED) if not (check.recorded and check.possible) else ""
    return f"No out-of-time check was possible: {reason}." if reason else ""


def window_sentence(check: OutOfTime) -> str:
    """What the out-of-time check measured, and over which days."""
    returned = check.customers_returned / check.customers if check.customers else None
    new = (
        f" {format_count(check.new_customers)} customers first seen after it belong to no segment "
        "and are not counted."
        if check.new_customers
        else ""
    )
    return (
        f"Segments were chosen on data before {day_text(check.as_of)}; what their "
        f"{format_count(check.customers)} customers did from {day_text(check.window_start)} to "
        f"{day_text(check.window_end)} ({check.window_days} days) was held out. "
        f"{format_count(check.customers_returned)} ({percent(returned)}) bought again; a customer with "
        f"no later purchase, or only a refund, did not come back, and spend excludes refunds.{new}"
    )


def out_of_time_line(check: OutOfTime, outcome: Outcome, names: Mapping[int, str]) -> str:
    """The segment that did most after ``as_of`` against the rest, in one sentence."""
    figures = [s for s in outcome.segments if s.value is not None]
    if not figures:
        return ""
    best = max(figures, key=lambda s: (s.value or 0.0, -s.segment))
    who = f"'{names.get(best.segment) or f'Segment {best.segment}'}'"
    show = _show(outcome)
    interval = f"[{show(best.ci_low)} – {show(best.ci_high)}]"
    if outcome.outcome == "bought_again":
        text = f"{who} customers came back {show(best.value)} {interval} of the time after it"
    else:
        text = f"{who} customers spent {show(best.value)} {interval} on average after it"
    if best.rest_value is not None:
        text += f", against {show(best.rest_value)} for the rest"
    if best.p_adjusted is not None:
        text += f"; {p_text(best.p_adjusted)} after adjustment"
        text += "" if best.p_adjusted < 0.05 else " (a difference that may be chance)"
    return f"Segments chosen on data before {day_text(check.as_of)}: {text}."


def out_of_time_lines(check: OutOfTime, names: Mapping[int, str]) -> tuple[str, ...]:
    return tuple(line for line in (out_of_time_line(check, o, names) for o in check.outcomes) if line)


# -- the pages -------------------------------------------------------------------------------


def _table(outcome: Outcome, names: Mapping[int, str]) -> Table:
    rate = outcome.kind == "rate"
    rows = tuple(
        (
            names.get(s.segment) or f"Segment {s.segment}",
            format_count(s.n),
            segment_value(outcome, s),
            segment_interval(outcome, s),
            segment_p(s),
        )
        for s in outcome.segments
    )
    how = "rate with its Wilson" if rate else "mean with its t"
    test = "Fisher's exact test" if rate else "Mann–Whitney"
    return Table(
        ("Segment", "Customers", "Rate" if rate else "Mean", "95% interval", "Adjusted p vs rest"),
        rows,
        numeric=(1, 2, 3, 4),
        caption=f"Each segment's {how} 95% interval; adjusted p: the segment against all other "
        f"customers ({test}, Benjamini–Hochberg over the run's tests).",
    )


def _reading(outcome: Outcome, names: Mapping[int, str], check: OutOfTime | None) -> str:
    if check is not None:
        return out_of_time_line(check, outcome, names)
    line = next(iter(outcome_lines([outcome], names)), "")
    return line or "Too few segments with a value to compare."


def _section(
    outcome: Outcome,
    names: Mapping[int, str],
    *,
    check: OutOfTime | None = None,
) -> Section:
    label = outcome_label(outcome)
    groups: list[tuple[str, tuple[str, ...]]] = []
    if check is not None:
        title = f"After {day_text(check.as_of)}: {OUT_OF_TIME_TITLES.get(outcome.outcome, label)}"
        groups.append(("The out-of-time check", (window_sentence(check),)))
    else:
        title = f"Outcome: {label}"
    test = test_sentence(outcome)
    if outcome.rows_left_out:
        test += f" {format_count(outcome.rows_left_out)} customer(s) without a value left out."
    groups += [("Overall test", (test,)), ("Reading", (_reading(outcome, names, check),))]
    return Section(f"outcome-{outcome.outcome}", title, tuple(groups), _table(outcome, names))


def outcome_pages(metrics: RunMetrics, names: Mapping[int, str]) -> tuple[Section, ...]:
    """The outcome page: one section per declared outcome, then per out-of-time outcome; a
    section saying why there is nothing to show when neither exists."""
    check = metrics.out_of_time
    later = check.outcomes if check.possible else ()
    reason = out_of_time_reason(check)
    if not metrics.outcomes and not later:
        return (
            Section(
                "outcomes",
                "Outcome validation",
                (
                    (
                        "No outcome checked",
                        (
                            "No outcome column was declared for this run, so the segments were not "
                            "checked against churn, revenue or any other outcome.",
                            reason or "No out-of-time check was possible.",
                            DECLARE_WHERE,
                        ),
                    ),
                ),
            ),
        )
    sections = [_section(o, names) for o in metrics.outcomes]
    sections += [_section(o, names, check=check) for o in later]
    first = sections[0]
    # the part missing, said once, on the first page
    aside = (
        ("Out-of-time check", (reason,))
        if reason
        else ("Outcome columns", (f"No outcome column was declared. {DECLARE_WHERE}",))
    )
    if reason or not metrics.outcomes:
        sections[0] = Section(first.key, first.title, (*first.groups, aside), first.table, first.notes)
    return tuple(sections)
