"""The documents in plain language: the edition line, a glossary, readable numbers in engine
text, and the outcome findings an executive reads first.

Part of :mod:`reports.content`; never imports Django.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from segmentation.result import Outcome, RunMetrics

from .formatting import algorithm_label, feature_label, format_count, format_number, format_share

DRAFT_EDITION = "Draft - not approved for use"

# A number in scientific notation ("7.06e+03") as Python's %g writes the engine's reasons.
_SCIENTIFIC = re.compile(r"(?<![\w.])([-+]?\d+(?:\.\d+)?[eE][-+]?\d+)(?![\w.])")


def edition_text(approval: Mapping[str, Any] | None, version_hash: str) -> str:
    """What every page and slide says about the document's standing.

    ``approval`` (approver, at) is given only for the approved edition; without it the document
    is a draft, whatever happened to the version after it was built.
    """
    if not approval:
        return DRAFT_EDITION
    at = approval.get("at")
    when = f"{at.day} {at:%B %Y}" if isinstance(at, datetime) else str(at or "")
    return f"Approved by {approval.get('approver') or 'a reviewer'} on {when} - version {version_hash[:12]}"


def plain_numbers(text: str) -> str:
    """``text`` with every number in scientific notation written out for reading."""
    return _SCIENTIFIC.sub(lambda match: format_number(float(match.group(1))), text)


def method_lines(
    metrics: RunMetrics, features: Sequence[str], customers: int, missing_total: int
) -> tuple[str, ...]:
    """How the segments were found, in words a business reader follows."""
    names = ", ".join(feature_label(f) for f in features)
    lines = [f"{len(features)} features used: {names}."]
    rule = metrics.imputation or "the feature's median"
    if missing_total:
        lines.append(f"{format_count(missing_total)} missing values were replaced by {rule}.")
    else:
        lines.append("No values were missing, so nothing was imputed.")
    lines.append(
        "Features were standardised (rescaled to the same spread) so each weighs the same when "
        "customers are compared."
    )
    if metrics.defaults is not None:
        lines.extend(metrics.defaults.sentences())
    algorithms = sorted({c.algorithm for c in metrics.candidates if c.algorithm})
    method = ", ".join(algorithm_label(a) for a in algorithms) or "clustering"
    if metrics.k_range is not None:
        low, high = metrics.k_range
        lines.append(f"{method} was tried for every k from {low} to {high}.")
    sample = metrics.silhouette_sample_size or 0
    if 0 < sample < customers:
        lines.append(f"Silhouette was measured on a random sample of {format_count(sample)} customers.")
    assignment = metrics.selected.assignment
    if assignment:
        lines.append(assignment[0].upper() + assignment[1:] + ".")
    return tuple(lines)


def quality_label(silhouette: float | None) -> str:
    """Kaufman & Rousseeuw's reading of an average silhouette width."""
    if silhouette is None:
        return "not measured"
    if silhouette > 0.70:
        return "strong structure"
    if silhouette > 0.50:
        return "reasonable structure"
    if silhouette > 0.25:
        return "weak structure"
    return "no substantial structure"


# -- glossary --------------------------------------------------------------------------------

_TERMS = {
    "segment": (
        "Segment",
        "A group of customers who behave alike on the features below; every customer belongs to one.",
    ),
    "feature": ("Feature", "One measured fact about a customer, such as how much or how often they buy."),
    "average": (
        "Average",
        "The mean of a feature over all customers, the yardstick each segment is read against.",
    ),
    "difference": (
        "Difference",
        "How far a segment's mean is from the average, in per cent of it (+50% is half as much again).",
    ),
    "k": ("k", "The number of segments a candidate solution has."),
    "silhouette": (
        "Quality score (silhouette)",
        "How much closer customers are to their own segment than to the next, from -1 to 1; "
        "above 0.5 is good.",
    ),
    "stability": (
        "Stability",
        "Whether the same segments come back when the analysis is repeated, from 0 to 1; 0.75 or more is stable.",
    ),
    "davies_bouldin": (
        "Davies\u2013Bouldin",
        "A second check of separation: how much segments overlap compared with their spread; lower is better.",
    ),
    "calinski_harabasz": (
        "Calinski\u2013Harabasz",
        "A third check: spread between segments against spread within them; higher is better.",
    ),
    "imputed": (
        "Imputed",
        "A missing value filled in (with the feature's median) so the customer can be placed.",
    ),
    "standardised": (
        "Standardised",
        "Each feature rescaled to the same spread, so no feature weighs more just because of its unit.",
    ),
    "rule": (
        "Rule",
        "An if-then description of who is in a segment; its fidelity says how often it agrees with the model.",
    ),
    "four_fifths": (
        "Four-fifths rule",
        "A fairness check: a group's share of a segment below 80% of another group's share is flagged.",
    ),
    "p_adjusted": (
        "Adjusted p",
        "How likely a difference this large would be by chance alone, corrected for the number of "
        "tests run (Benjamini\u2013Hochberg); below 0.05 it is unlikely to be chance.",
    ),
    "out_of_time": (
        "Out-of-time check",
        "Segments chosen on older data, checked against what their customers did afterwards.",
    ),
    "hash": ("Version hash", "A fingerprint of the data, settings and model; any change gives a new one."),
}


def glossary(metrics: RunMetrics, *, has_bias: bool) -> tuple[tuple[str, str], ...]:
    """The terms the documents use, in words, for the method page and slide."""
    keys = ["segment", "feature", "average", "difference", "k", "silhouette"]
    if metrics.selected_stability is not None or any(c.stability is not None for c in metrics.candidates):
        keys.append("stability")
    if any(c.davies_bouldin is not None for c in metrics.candidates):
        keys.append("davies_bouldin")
    if any(c.calinski_harabasz is not None for c in metrics.candidates):
        keys.append("calinski_harabasz")
    keys += ["imputed", "standardised"]
    if metrics.rules is not None:
        keys.append("rule")
    if has_bias:
        keys.append("four_fifths")
    if any(o.p_adjusted is not None for o in (*metrics.outcomes, *metrics.out_of_time.outcomes)):
        keys.append("p_adjusted")
    if metrics.out_of_time.possible and metrics.out_of_time.outcomes:
        keys.append("out_of_time")
    keys.append("hash")
    return tuple(_TERMS[key] for key in keys)


# -- findings --------------------------------------------------------------------------------


def outcome_lines(outcomes: Sequence[Outcome], names: Mapping[int, str]) -> tuple[str, ...]:
    """One sentence per outcome column: where it is highest and lowest, and whether that is chance."""
    lines = []
    for outcome in outcomes:
        figures = [
            (s.rate if outcome.kind == "rate" else s.mean, s.segment)
            for s in outcome.segments
            if (s.rate if outcome.kind == "rate" else s.mean) is not None
        ]
        if len(figures) < 2:
            continue
        (low, low_segment), (high, high_segment) = min(figures), max(figures)
        show = format_share if outcome.kind == "rate" else format_number
        label = feature_label(outcome.outcome)
        text = (
            f"{label} is highest in {names.get(high_segment, f'segment {high_segment}')} ({show(high)}) and "
            f"lowest in {names.get(low_segment, f'segment {low_segment}')} ({show(low)})"
        )
        if outcome.significant is not None:
            text += (
                ": a difference too large to be chance"
                if outcome.significant
                else ": a difference that may be chance"
            )
        lines.append(text + ".")
    return tuple(lines)


def bias_line(bias: Mapping[str, Any] | None) -> str:
    """The bias audit in one sentence for the summary, or "" when no attribute was declared."""
    bias = bias or {}
    protected = [str(c) for c in bias.get("protected_columns") or []]
    if not protected:
        return ""
    flagged = sorted({str(r.get("attribute")) for r in bias.get("rows") or [] if r.get("four_fifths_flag")})
    names = ", ".join(protected)
    if flagged:
        return (
            f"Bias check on {names}: {', '.join(flagged)} {'is' if len(flagged) == 1 else 'are'} unevenly "
            "spread over the segments "
            "(four-fifths rule); see the bias audit before using them."
        )
    return f"Bias check on {names}: no group is flagged by the four-fifths rule."
