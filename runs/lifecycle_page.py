"""The results page's Lifecycle section, shaped from what the run stored.

The figures are the engine's: ``metrics["clv"]`` (the BG/NBD and Gamma-Gamma fits and their
holdout check, :class:`segmentation.metrics.lifecycle.Clv`) and ``metrics["lifecycle"]``
(cohorts, CLV by segment, lifecycle states, likely movers; the same dict as ``lifecycle.json``),
and the first rows of ``movers.csv``. This module only arranges them for reading; it computes
no statistic. A part the engine did not make shows the engine's reason instead, so the page
never shows a figure that was not stored. Customer tables and versions made before the
lifecycle models have no section at all.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from governance.dp_policy import dp_withheld_reason
from governance.models import SegmentVersion
from reports.formatting import DASH, format_count, format_number
from reports.models import Deliverable
from reports.outcome_pages import day_text
from segmentation.metrics.lifecycle import Clv, Holdout, LifecycleSummary

from .findings import percent
from .lifecycle_svg import state_diagram

TOP_MOVERS = 20
MOVERS_FILE = "movers.csv"
PERIOD_WORDS = {"month": "month", "week": "week", "quarter": "quarter"}


def lifecycle_part(version: SegmentVersion, deliverables: Iterable[Deliverable]) -> dict[str, Any] | None:
    """The section's four parts (``clv``, ``cohorts``, ``states``, ``movers``), each either with
    its figures or with ``reason`` saying why it is missing; None when the version stored no
    lifecycle report (a customer table, an older version)."""
    summary = version.metrics_view.lifecycle
    if summary is None:
        return None
    names = {int(row["segment"]): str(row.get("name", "")) for row in version.profile}
    return {
        "clv": clv_part(summary, version.metrics_view.clv, version),
        "cohorts": cohorts_part(summary, names),
        "states": states_part(summary),
        "movers": movers_part(summary, version, list(deliverables)),
    }


def _missing(summary: LifecycleSummary, part: str, fallback: str) -> dict[str, Any]:
    return {"reason": _sentence(summary.skipped.get(part) or fallback)}


def _sentence(reason: str) -> str:
    reason = reason.strip().rstrip(".")
    return reason[:1].upper() + reason[1:] + "." if reason else ""


def _period_words(period: str, count: int) -> str:
    word = PERIOD_WORDS.get(period, period)
    return f"{count} {word}{'' if count == 1 else 's'}"


# -- lifetime value -------------------------------------------------------------------------------


def clv_part(summary: LifecycleSummary, clv: Clv | None, version: SegmentVersion) -> dict[str, Any]:
    by_segment = summary.clv
    if by_segment is None or clv is None:
        spec = version.segmentation_spec
        asked = spec.features is None or "clv" in spec.features
        groups_skipped = version.metrics_view.transactions.feature_groups_skipped
        fallback = (
            groups_skipped.get("clv", "the lifetime value was not computed for this run")
            if asked
            else "the run's spec left out the clv feature group, so no lifetime value was computed"
        )
        return _missing(summary, "clv", fallback)
    rows = [
        {
            "segment": int(row.get("segment", 0)),
            "name": str(row.get("name", "")),
            "customers": format_count(int(row.get("customers", 0))),
            "p_alive": percent(row.get("p_alive_mean")),
            "expected_purchases": format_number(row.get("expected_purchases_mean")),
            "clv_mean": format_number(row.get("clv_mean")),
            "clv_total": format_number(row.get("clv_total")),
            "clv_share": percent(row.get("clv_share")),
        }
        for row in by_segment.get("by_segment") or ()
    ]
    horizon = int(by_segment.get("horizon_days") or version.segmentation_spec.clv_horizon_days)
    return {
        "rows": rows,
        "total": format_number(by_segment.get("total")),
        "customers": format_count(
            sum(int(r.get("customers", 0)) for r in by_segment.get("by_segment") or ())
        ),
        "horizon_days": horizon,
        "model": model_sentence(clv, horizon, version.segmentation_spec.clv_discount_rate),
        "holdout": holdout_part(clv.holdout),
    }


def model_sentence(clv: Clv, horizon_days: int, discount_rate: float) -> str:
    """How the lifetime value was made, in one sentence: the horizon, the discount and the two
    models, or the pooled spend and why the spend model was not used."""
    start = (
        f"Lifetime value over {horizon_days} days, discounted at {discount_rate:.0%} a year, from a "
        f"BG/NBD purchase model"
    )
    customers = format_count(clv.customers)
    if clv.pooled:
        reason = (clv.pooled_reason or "").strip().rstrip(".")
        because = f", because {reason}" if reason else ""
        return (
            f"{start} fitted on {customers} customers, spend valued at the pooled mean of "
            f"{format_number(clv.pooled_spend_mean)} per purchase day{because}."
        )
    return f"{start} and a Gamma-Gamma spend model fitted on {customers} customers."


def holdout_part(holdout: Holdout | None) -> dict[str, Any] | None:
    if holdout is None:
        return None
    return {
        "sentence": (
            f"Checked on {format_number(holdout.weeks)} weeks after {day_text(holdout.as_of)}: predicted "
            f"{format_number(holdout.predicted)} purchase days, actual {format_number(holdout.actual)} "
            f"(mean absolute error per customer {format_number(holdout.mean_absolute_error)})."
        ),
        "rows": [
            {
                "frequency": group.frequency,
                "customers": format_count(group.customers),
                "predicted": format_number(group.predicted_mean),
                "actual": format_number(group.actual_mean),
            }
            for group in holdout.by_frequency
        ],
    }


# -- cohorts --------------------------------------------------------------------------------------


def cohorts_part(summary: LifecycleSummary, names: Mapping[int, str]) -> dict[str, Any]:
    cohorts = summary.cohorts
    if cohorts is None:
        return _missing(summary, "cohorts", "no cohort table was made for this run")
    labels = [str(c) for c in cohorts.get("cohorts") or ()]
    offsets = [int(o) for o in cohorts.get("offsets") or ()]
    segments = [
        {
            "segment": int(entry.get("segment", 0)),
            "name": names.get(int(entry.get("segment", 0))) or f"Segment {entry.get('segment')}",
            "rows": _triangle(labels, entry.get("customers") or (), entry.get("retention") or (), offsets),
        }
        for entry in cohorts.get("by_segment") or ()
    ]
    return {
        "period": str(cohorts.get("period") or summary.period),
        "offsets": offsets,
        "rows": _triangle(labels, cohorts.get("customers") or (), cohorts.get("retention") or (), offsets),
        "segments": segments,
        "older_customers": int(cohorts.get("older_customers") or 0),
        "unlabelled_customers": int(cohorts.get("unlabelled_customers") or 0),
    }


def _triangle(
    labels: Sequence[str], sizes: Sequence[Any], retention: Sequence[Any], offsets: Sequence[int]
) -> list[dict[str, Any]]:
    """One row per cohort with customers (a segment's empty cohorts left out), each cell the
    retention as a percentage and its shade; a cell beyond the triangle stays empty."""
    rows = []
    for label, size, shares in zip(labels, sizes, retention, strict=False):
        if not size:
            continue
        shares = list(shares or ())
        cells = [_cell(shares[i] if i < len(shares) else None) for i in range(len(offsets))]
        rows.append({"cohort": label, "customers": format_count(int(size)), "cells": cells})
    return rows


def _cell(value: float | None) -> dict[str, Any]:
    if value is None:
        return {"text": "", "style": ""}
    shade = max(0.0, min(1.0, float(value)))
    # white text once the background is dark enough that the ink would not read
    ink = "#fff" if shade > 0.55 else "inherit"
    return {"text": percent(value), "style": f"background: rgba(29, 78, 216, {shade:.2f}); color: {ink}"}


# -- lifecycle states -----------------------------------------------------------------------------


def states_part(summary: LifecycleSummary) -> dict[str, Any]:
    states = summary.states
    if states is None:
        return _missing(summary, "states", "no lifecycle states were fitted for this run")
    names = [str(n) for n in states.get("names") or ()]
    table = {str(s.get("state")): s for s in states.get("states") or ()}
    matrix = [[_float(p) for p in row] for row in states.get("transition_matrix") or ()]
    now = [_int(table.get(n, {}).get("customers_now")) for n in names]
    counts = sorted(int(k) for k in (states.get("bic") or {}))
    among = f"{counts[0]}–{counts[-1]}" if counts else ""
    next_period = states.get("next_period") or {}
    return {
        "sentence": (
            f"States through {states.get('through')}, fitted on {format_count(_int(states.get('fitted_customers')) or 0)} "
            f"customers; {states.get('chosen_states')} states chosen by BIC"
            + (f" among {among}." if among else ".")
        ),
        "period": summary.period,
        "diagram": state_diagram(names, matrix, now),
        "names": names,
        "rows": [
            {
                "name": name,
                "customers_now": format_count(count) if count is not None else DASH,
                "purchases": format_number(_float(table.get(name, {}).get("purchases_per_period"))),
                "spend": format_number(_float(table.get(name, {}).get("spend_per_purchase"))),
                "next_share": percent(_float(next_period.get(name))),
                "to": [percent(p) for p in (matrix[i] if i < len(matrix) else [])],
            }
            for i, (name, count) in enumerate(zip(names, now, strict=True))
        ],
        "segments": [
            {
                "segment": int(entry.get("segment", 0)),
                "name": str(entry.get("name", "")),
                "mix": [percent(_float((entry.get("current") or {}).get(n))) for n in names],
                "churn": percent(_float(entry.get("churn_probability_mean"))),
            }
            for entry in states.get("by_segment") or ()
        ],
    }


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- likely movers --------------------------------------------------------------------------------


def movers_part(
    summary: LifecycleSummary, version: SegmentVersion, deliverables: Sequence[Deliverable]
) -> dict[str, Any]:
    movers = summary.movers
    if movers is None or "movers" in summary.skipped:
        return _missing(summary, "movers", "no likely movers were computed for this run")
    count = int(movers.get("customers") or 0)
    threshold = _float(movers.get("threshold"))
    periods = int(movers.get("periods") or 0)
    target = str(movers.get("target") or "dormant")
    likely = f" (≥{100 * threshold:g}%)" if threshold is not None else ""
    file = next((d for d in deliverables if d.kind == MOVERS_FILE), None)
    withheld = dp_withheld_reason(version, MOVERS_FILE)
    return {
        "sentence": (
            f"{format_count(count)} customer{'' if count == 1 else 's'} "
            f"{'is' if count == 1 else 'are'} likely{likely} "
            f"to be {target} within {_period_words(summary.period, periods)}."
        ),
        "customers": count,
        "segments": [
            {"name": str(s.get("name", "")), "customers": format_count(int(s.get("customers") or 0))}
            for s in movers.get("by_segment") or ()
        ],
        "top": top_movers(file) if file is not None and count else [],
        "file": file if withheld is None else None,
        "withheld": withheld,
    }


def top_movers(file: Deliverable, limit: int = TOP_MOVERS) -> list[dict[str, str]]:
    """The first ``limit`` rows of ``movers.csv``: the engine wrote it most likely first, and an
    erasure rewrites it, so the page shows no customer the file no longer holds."""
    with file.file.open("rb") as handle:
        text = io.TextIOWrapper(io.BytesIO(handle.read()), encoding="utf-8")
        rows = list(itertools.islice(csv.DictReader(text), limit))
    names = {int(row["segment"]): str(row.get("name", "")) for row in file.version.profile}
    return [
        {
            "customer_id": row.get("customer_id", ""),
            "segment": names.get(int(row["segment"]), f"Segment {row['segment']}")
            if str(row.get("segment", "")).lstrip("-").isdigit()
            else str(row.get("segment", "")),
            "state": row.get("state", ""),
            "probability": percent(float(row["probability"])) if row.get("probability") else DASH,
        }
        for row in rows
    ]
