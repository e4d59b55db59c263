"""The results page's bias and outcome sections, shaped from what the engine stored.

The figures are the engine's: the delivered segmentation's stability, the bias audit's rows (fairlearn's selection rate by group per
segment, ``segmentation.protection.fairness``) and the outcome associations in the metrics
(``segmentation.explain.outcomes``, and ``out_of_time`` for a log that runs past ``as_of``). This
module only arranges them for reading: one table per protected attribute and per outcome, the
largest disparity in words, and what was measured; the outcome sentences are the documents'
(``reports.outcome_pages``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.models import SegmentVersion
from reports.formatting import feature_label
from reports.outcome_pages import (
    out_of_time_line,
    out_of_time_reason,
    outcome_label,
    segment_interval,
    segment_p,
    segment_value,
    test_sentence,
    window_sentence,
)
from reports.plain import outcome_lines
from reports.selection_content import segment_stability, stability_figure
from segmentation.result import Outcome, OutOfTime, Selected

from .mitigation import mitigation_part


def percent(value: float | None) -> str:
    """A share with one decimal everywhere in these tables, so columns line up and compare."""
    return "—" if value is None else f"{100 * value:.1f}%"


def _two_decimals(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def version_findings(version: SegmentVersion) -> dict[str, Any]:
    """The bias and outcome sections of a version's results page.

    ``declared`` says which kinds the spec asked for, so the page can say plainly when none was
    declared rather than show an empty table.
    """
    spec = version.segmentation_spec
    names = {int(row["segment"]): str(row.get("name", "")) for row in version.profile}
    audit = getattr(version, "bias_audit", None)
    return {
        "protected_declared": list(spec.protected_columns),
        "outcome_declared": list(spec.outcome_columns),
        "bias": bias_attributes(audit.rows, audit.findings, names) if audit is not None else [],
        "outcomes": outcome_tables(version.metrics_view.outcomes, names),
        "out_of_time": out_of_time_part(version.metrics_view.out_of_time, names),
        "mitigation": mitigation_part(version),
        "stability": selection_stability(version.metrics_view.selected, names),
    }


def selection_stability(selected: Selected, names: Mapping[int, str]) -> dict[str, Any]:
    """The delivered segmentation's stability, with its interval and per segment, for the page."""
    return {
        "figure": stability_figure(selected) if selected.stability is not None else "",
        "full_size": selected.stability_interval is not None,
        "segments": [
            {"label": _segment_label(segment, names), "jaccard": words}
            for segment, words in segment_stability(selected)
        ],
    }


def _segment_label(segment: int, names: Mapping[int, str]) -> str:
    name = names.get(segment)
    return f"segment {segment} ({name})" if name else f"segment {segment}"


def bias_attributes(
    rows: list[dict[str, Any]], findings: Mapping[str, Any], names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """One entry per protected attribute: each segment's make-up by group against the overall
    make-up, each group's selection rate, parity per segment, and the largest gap in words."""
    proxies = findings.get("proxies") or {}
    attributes = []
    for attribute in dict.fromkeys(str(r["attribute"]) for r in rows):
        mine = [r for r in rows if str(r["attribute"]) == attribute]
        groups = sorted({str(r["group"]) for r in mine})
        segments = sorted({int(r["segment"]) for r in mine})
        sizes = {str(r["group"]): int(r["group_size"]) for r in mine}
        total = sum(sizes.values())
        overall = {g: sizes[g] / total if total else 0.0 for g in groups}
        cell = {(int(r["segment"]), str(r["group"])): r for r in mine}
        table = []
        widest: tuple[float, int, str] | None = None
        for segment in segments:
            present = [cell[(segment, g)] for g in groups if (segment, g) in cell]
            customers = round(sum(float(r["segment_share"]) * int(r["group_size"]) for r in present))
            shares = []
            for group in groups:
                row = cell.get((segment, group))
                composition = float(row["share_of_segment"]) if row else 0.0
                # The largest over-representation: with two groups it mirrors the largest
                # under-representation, and "make up 32% against 16% overall" reads plainly.
                gap = composition - overall[group]
                if widest is None or gap > widest[0]:
                    widest = (gap, segment, group)
                shares.append(
                    {
                        "group": group,
                        "composition": percent(composition),
                        "selection_rate": percent(float(row["segment_share"]) if row else 0.0),
                        "flag": bool(row and row["four_fifths_flag"]),
                    }
                )
            first = present[0] if present else {}
            table.append(
                {
                    "segment": segment,
                    "label": _segment_label(segment, names),
                    "customers": customers,
                    "shares": shares,
                    "parity_difference": _two_decimals(first.get("demographic_parity_difference")),
                    "parity_ratio": _two_decimals(first.get("demographic_parity_ratio")),
                }
            )
        proxy = proxies.get(attribute) or {}
        attributes.append(
            {
                "attribute": attribute,
                "slug": _slug(attribute),
                "groups": groups,
                "total": total,
                "overall": [
                    {"group": g, "share": percent(overall[g]), "customers": sizes[g]} for g in groups
                ],
                "segments": table,
                "headline": _disparity(attribute, widest, cell, overall, names),
                "flags": sum(1 for r in mine if r["four_fifths_flag"]),
                "auc": proxy.get("auc"),
                "proxies": [feature_label(str(p["feature"])) for p in proxy.get("proxies") or []],
            }
        )
    return attributes


def _disparity(
    attribute: str,
    widest: tuple[float, int, str] | None,
    cell: Mapping[tuple[int, str], Mapping[str, Any]],
    overall: Mapping[str, float],
    names: Mapping[int, str],
) -> str:
    if widest is None:
        return f"No segment was audited on {attribute}."
    _, segment, group = widest
    row = cell.get((segment, group))
    composition = float(row["share_of_segment"]) if row else 0.0
    return (
        f"Customers with {attribute} = {group} make up {percent(composition)} of "
        f"{_segment_label(segment, names)} against {percent(overall[group])} overall."
    )


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def outcome_tables(outcomes: tuple[Outcome, ...], names: Mapping[int, str]) -> list[dict[str, Any]]:
    """One entry per outcome column: rate or mean per segment with its 95% interval, and the test."""
    headlines = outcome_lines(outcomes, names)
    tables = []
    for outcome in outcomes:
        label = feature_label(outcome.outcome)
        headline = next((line for line in headlines if line.startswith(f"{label} is highest")), "")
        tables.append(_outcome_table(outcome, names, headline))
    return tables


def _outcome_table(outcome: Outcome, names: Mapping[int, str], headline: str) -> dict[str, Any]:
    rows = [
        {
            "segment": s.segment,
            "label": _segment_label(s.segment, names),
            "n": s.n,
            "value": segment_value(outcome, s),
            "interval": segment_interval(outcome, s),
            "p_adjusted": segment_p(s),
        }
        for s in outcome.segments
    ]
    return {
        "outcome": outcome.outcome,
        "label": outcome_label(outcome),
        "slug": _slug(outcome.outcome),
        "kind": "Rate" if outcome.kind == "rate" else "Mean",
        "rows": rows,
        "headline": headline,
        "test": test_sentence(outcome),
        "left_out": outcome.rows_left_out,
    }


def out_of_time_part(check: OutOfTime, names: Mapping[int, str]) -> dict[str, Any]:
    """The out-of-time check: the window in words, one line and one table per later outcome,
    or why no check was possible."""
    if not (check.recorded and check.possible):
        return {"possible": False, "reason": out_of_time_reason(check), "tables": []}
    tables = [_outcome_table(o, names, out_of_time_line(check, o, names)) for o in check.outcomes]
    return {"possible": True, "window": window_sentence(check), "reason": "", "tables": tables}
