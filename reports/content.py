"""Everything the executive deck and the PDF report say, derived once from an engine result.

Both documents render a :class:`ReportContent` and nothing else, so the numbers, names and
sentences in the deck and in the PDF cannot drift apart. This module never imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from segmentation.explain.average import lift, versus_average
from segmentation.result import Rules, RunMetrics

from .formatting import (
    DASH,
    column_labels_in_force,
    feature_label,
    format_count,
    format_metric,
    format_number,
    format_share,
    format_signed_pct,
    shorten,
)
from .lifecycle_sections import LifecycleContent
from .outcome_pages import out_of_time_lines, outcome_pages
from .plain import (
    bias_line,
    edition_text,
    glossary,
    method_lines,
    outcome_lines,
    plain_numbers,
    quality_label,
)
from .reading import as_float, as_int, customer_count, feature_names, mapping, population_means, run_metrics
from .sections import (
    Section,
    bias_section,
    feature_section,
    fidelity_text,
    privacy_section,
    segment_actions,
    segment_rules,
    status_section,
)
from .selection_content import ValidationTable, choice, selection, stability, validation

# A feature counts as distinguishing when the segment's mean is at least this far from the
# population mean, relative to it; smaller gaps are noise for a business reader.
TRAIT_THRESHOLD = 0.10
MAX_TRAITS = 4
SHORT_NAME_CHARS = 28


@dataclass(frozen=True)
class FeatureFigure:
    """One feature of one segment against the population average."""

    feature: str
    label: str
    mean: float
    average: float
    # versus_average(mean, average): (mean - average) / |average|, None under its zero guard
    difference: float | None

    @property
    def mean_text(self) -> str:
        return format_number(self.mean)

    @property
    def average_text(self) -> str:
        return format_number(self.average)

    @property
    def difference_text(self) -> str:
        if self.difference is None:
            return format_number(self.mean - self.average, signed=True)
        return format_signed_pct(self.difference)


@dataclass(frozen=True)
class SegmentContent:
    segment: int
    name: str
    short_name: str
    size: int
    share: float
    figures: tuple[FeatureFigure, ...]
    traits: tuple[str, ...]
    headline: str
    # share of all customers' value (spend), where the data has a value feature
    value_share: float | None = None
    rules: tuple[str, ...] = ()
    rule_note: str = ""
    actions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"Segment {self.segment}"

    @property
    def size_text(self) -> str:
        return format_count(self.size)

    @property
    def share_text(self) -> str:
        return format_share(self.share)

    @property
    def kicker(self) -> str:
        text = f"{self.label} · {self.size_text} customers · {self.share_text} of all customers"
        if self.value_share is not None:
            text += f" · {format_share(self.value_share)} of customer value"
        return text


@dataclass(frozen=True)
class KeyNumber:
    label: str
    value: str
    note: str


@dataclass(frozen=True)
class ReportContent:
    title: str
    client: str
    version_id: str
    version_hash: str
    hash_prefix: str
    created: datetime
    date_text: str
    status: str
    footer: str
    customers: int
    key_numbers: tuple[KeyNumber, ...]
    summary: tuple[str, ...]
    features: tuple[str, ...]
    feature_labels: tuple[str, ...]
    population_means: tuple[float, ...]
    missing: tuple[tuple[str, int], ...]
    missing_total: int
    method: tuple[str, ...]
    selection: tuple[str, ...]
    segments: tuple[SegmentContent, ...]
    validation: ValidationTable
    stability: tuple[str, ...] = ()
    # the selection in one short sentence, for a slide (``selection`` has the engine's full reason)
    choice: str = ""
    rules_note: str = ""
    bias: Section | None = None
    privacy: Section | None = None
    status_detail: Section | None = None
    features_detail: Section | None = None
    what_changed: Section | None = None  # a retrained version's (reports.what_changed)
    # what every page and slide says of the document's standing: draft, or approved by whom
    edition: str = ""
    approved: bool = False
    glossary: tuple[tuple[str, str], ...] = ()
    # the structure verdict in words when it recommends none or warns (the summary's first line)
    recommendation: str = ""
    # the outcome page: each outcome column and out-of-time outcome, or why there is none
    outcome_pages: tuple[Section, ...] = ()
    customer_lifecycle: LifecycleContent | None = None  # a log's (reports.lifecycle_sections)

    @property
    def status_text(self) -> str:
        return self.status.replace("_", " ").capitalize()


def report_content(
    *,
    profile: pd.DataFrame,
    metrics: RunMetrics | Mapping[str, Any],
    title: str,
    client: str,
    version_id: str,
    version_hash: str,
    created: datetime,
    status: str = "draft",
    bias: Mapping[str, Any] | None = None,
    privacy: Mapping[str, Any] | None = None,
    lifecycle: Mapping[str, Any] | None = None,
    approval: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> ReportContent:
    """Derive every figure and sentence both documents show from one engine result.

    ``metrics`` are the stored metrics or their :class:`RunMetrics` view.
    ``bias`` (protected_columns, rows, findings), ``privacy`` (risk, quasi_identifiers,
    decisions, identity, target_k, dp_releases, ...) and ``lifecycle`` (status, history, parent,
    created_by, ...) are plain values read from the governance records; each may be omitted.
    ``approval`` (approver, at) makes this the approved edition; without it the documents are drafts.
    ``labels``, the project's labels of its columns, name the features wherever they are named.
    """
    with column_labels_in_force(labels):
        metrics = run_metrics(metrics)
        features = feature_names(profile, metrics)
        means = population_means(profile, metrics, features)
        structure = metrics.structure
        recommendation = structure.sentence if structure.verdict in ("none", "weak") else ""
        segments = _segments(profile, features, means, metrics.rules, neutral=structure.recommends_none)
        if lifecycle and lifecycle.get("status"):
            status = str(lifecycle["status"])
        customers = customer_count(metrics, sum(s.size for s in segments))
        hash_prefix = (version_hash or "")[:12]
        footer = f"Version {version_id}" + (f" · {hash_prefix}" if hash_prefix else "")
        missing = tuple((f, metrics.missing.get(f, 0)) for f in features)
        return ReportContent(
            title=title,
            client=client,
            version_id=version_id,
            version_hash=version_hash or "",
            hash_prefix=hash_prefix,
            created=created,
            date_text=f"{created.day} {created:%B %Y}",
            status=status or "draft",
            footer=footer,
            customers=customers,
            key_numbers=_key_numbers(customers, segments, metrics),
            recommendation=recommendation,
            summary=_summary(
                customers,
                segments,
                metrics.silhouette,
                recommendation=recommendation,
                # outcome and bias findings before the segments: the deck caps the bullets, and
                # each segment has its own slide, the findings none
                findings=outcome_lines(metrics.outcomes, {s.segment: s.short_name for s in segments})
                + out_of_time_lines(metrics.out_of_time, {s.segment: s.short_name for s in segments})[:1]
                + tuple(line for line in [bias_line(bias)] if line),
            ),
            features=features,
            feature_labels=tuple(feature_label(f) for f in features),
            population_means=tuple(means[f] for f in features),
            missing=missing,
            missing_total=metrics.missing_total,
            method=method_lines(metrics, features, customers, metrics.missing_total),
            selection=tuple(plain_numbers(line) for line in selection(metrics)),
            segments=segments,
            validation=validation(metrics),
            stability=stability(metrics),
            choice=plain_numbers(choice(metrics.selected)),
            rules_note=fidelity_text(metrics.rules),
            bias=bias_section(bias, {s.segment: s.name for s in segments}),
            privacy=privacy_section(privacy),
            status_detail=status_section(lifecycle, version_id=version_id, version_hash=version_hash or ""),
            features_detail=feature_section(metrics, features, [means[f] for f in features]),
            edition=edition_text(approval, version_hash or ""),
            approved=bool(approval),
            glossary=glossary(metrics, has_bias=bool(mapping(bias).get("protected_columns"))),
            outcome_pages=outcome_pages(metrics, {s.segment: s.short_name for s in segments}),
        )


# -- segments --------------------------------------------------------------------------------


NO_ACTIONS = "None suggested: the data shows no groups worth acting on separately."


def _segments(
    profile: pd.DataFrame,
    features: Sequence[str],
    means: Mapping[str, float],
    rules: Rules | None,
    *,
    neutral: bool = False,
) -> tuple[SegmentContent, ...]:
    ordered = profile.sort_values("segment") if "segment" in profile.columns else profile
    total = float(pd.to_numeric(ordered.get("size", pd.Series(dtype=float)), errors="coerce").sum())
    segments = []
    for position, (_, row) in enumerate(ordered.iterrows()):
        number = as_int(row.get("segment"), default=position)
        raw_name = row.get("name")
        name = (raw_name.strip() if isinstance(raw_name, str) else "") or f"Segment {number}"
        size = as_int(row.get("size"))
        share = as_float(row.get("share"))
        if share is None:
            share = size / total if total else 0.0
        figures = tuple(_figure(f, row.get(f"{f}_mean"), means[f]) for f in features)
        traits = _traits(figures)
        rule_lines, rule_note = segment_rules(rules, number)
        segments.append(
            SegmentContent(
                segment=number,
                name=name,
                short_name=shorten(name, SHORT_NAME_CHARS),
                size=size,
                share=share,
                figures=figures,
                traits=traits,
                headline=_headline(figures),
                value_share=as_float(row.get("value_share")),
                rules=rule_lines,
                rule_note=rule_note,
                actions=segment_actions(row.get("actions")) or ((NO_ACTIONS,) if neutral else ()),
            )
        )
    return tuple(segments)


def _figure(feature: str, raw_mean: Any, average: float) -> FeatureFigure:
    mean = as_float(raw_mean)
    mean = average if mean is None else mean
    return FeatureFigure(feature, feature_label(feature), mean, average, versus_average(mean, average))


def _ranked(figures: Sequence[FeatureFigure]) -> list[FeatureFigure]:
    """Features that set a segment apart, biggest relative gap first.

    A feature whose average is zero has no relative gap and no scale to judge an absolute one,
    so it never counts as a trait; the key-figures table still shows it.
    """
    notable = [f for f in figures if f.difference is not None and abs(f.difference) >= TRAIT_THRESHOLD]
    return sorted(notable, key=lambda f: -abs(f.difference or 0.0))


def _traits(figures: Sequence[FeatureFigure]) -> tuple[str, ...]:
    ranked = _ranked(figures)[:MAX_TRAITS]
    if not ranked:
        pct = format_share(TRAIT_THRESHOLD)
        return (f"Close to the average on every feature (all within {pct}).",)
    return tuple(_trait_sentence(f) for f in ranked)


def _comparison(figure: FeatureFigure) -> str:
    difference = figure.difference or 0.0
    # "n× the average" only over a positive average: a multiple of a negative one reads backwards.
    ratio = lift(figure.mean, figure.average) if figure.average > 0 else None
    if ratio is not None and ratio >= 2:
        return f"{ratio:.1f}\u00d7 the average"
    word = "above" if difference > 0 else "below"
    return f"{format_share(abs(difference))} {word} average"


def _trait_sentence(figure: FeatureFigure) -> str:
    # "Label: ..." rather than "Label is ..." so plural feature names read correctly too.
    return f"{figure.label}: {_comparison(figure)} ({figure.mean_text} vs {figure.average_text})."


def _headline(figures: Sequence[FeatureFigure]) -> str:
    ranked = _ranked(figures)
    if not ranked:
        return "close to average on every feature"
    label = ranked[0].label
    # "Recency days" reads "recency days" mid-sentence; a client's own "MonthlyCharges" stays as named.
    label = label if any(c.isupper() for c in label[1:]) else label.lower()
    return f"{label} {_comparison(ranked[0])}"


# -- summary, method, validation -------------------------------------------------------------


def _key_numbers(
    customers: int, segments: Sequence[SegmentContent], metrics: RunMetrics
) -> tuple[KeyNumber, ...]:
    silhouette = metrics.silhouette
    k = len(segments) if metrics.selected.k is None else metrics.selected.k
    largest = max(segments, key=lambda s: s.size, default=None)
    return (
        KeyNumber("Customers", format_count(customers), "segmented"),
        KeyNumber("Segments", str(len(segments)), f"k = {k}"),
        KeyNumber("Quality score", format_metric(silhouette, 2), f"silhouette · {quality_label(silhouette)}"),
        KeyNumber(
            "Largest segment",
            largest.share_text if largest else DASH,
            largest.short_name if largest else "no segments",
        ),
    )


def _summary(
    customers: int,
    segments: Sequence[SegmentContent],
    silhouette: float | None,
    findings: Sequence[str] = (),
    recommendation: str = "",
) -> tuple[str, ...]:
    lines = [recommendation] if recommendation else []
    lines += [
        f"{format_count(customers)} customers fall into {len(segments)} segments; "
        f"the quality score of {format_metric(silhouette, 2)} (silhouette, on a scale from \u22121 to 1) "
        f"means {quality_label(silhouette)}."
    ]
    lines += findings
    lines += [f"{s.short_name} ({s.share_text}): {s.headline}." for s in segments]
    unassigned = customers - sum(s.size for s in segments)
    if unassigned > 0:
        lines.append(
            f"{format_count(unassigned)} customers ({unassigned / customers:.1%}) resemble no segment "
            "closely enough and are left unassigned."
        )
    return tuple(lines)
