"""The paginated PDF report: HTML built from a :class:`ReportContent`, rendered by WeasyPrint.

The HTML is assembled here with ``html.escape`` and dropped into ``templates/reports/
report.html`` with :class:`string.Template`, so no template engine or Django settings are
needed. Page numbers, the running version footer and the contents' page references are all
CSS (``@page`` counters, ``string-set``, ``target-counter``).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from .blocks import bullets, document, figure, html_table, write_pdf
from .content import TRAIT_THRESHOLD, ReportContent, SegmentContent
from .formatting import DASH, format_count, format_number
from .lifecycle_figures import cohort_heatmap, state_diagram_svg
from .sections import Section
from .svg import comparison_chart, segment_chart, segment_color, size_chart

CHAPTERS = (
    ("summary", "Executive summary"),
    ("method", "Data and method"),
    ("overview", "Segment overview"),
    ("compare", "How the segments differ"),
    ("segments", "Segment profiles"),
    ("validation", "Validation and stability"),
    ("outcomes", "Outcome validation"),
    ("bias", "Bias audit"),
    ("privacy", "Privacy statement"),
    ("status", "Version and approval status"),
    ("appendix", "Appendix"),
)


WHAT_CHANGED = ("what_changed", "What changed")
LIFECYCLE = ("lifecycle", "Lifecycle")


def _chapters(content: ReportContent) -> tuple[tuple[str, str], ...]:
    """The chapters of this report: a retrained version's "What changed" follows the summary,
    a log's "Lifecycle" the outcome validation."""
    chapters = list(CHAPTERS)
    if content.customer_lifecycle is not None:
        chapters.insert(chapters.index(("outcomes", "Outcome validation")) + 1, LIFECYCLE)
    if content.what_changed is not None:
        chapters.insert(1, WHAT_CHANGED)
    return tuple(chapters)


def build_report_pdf(content: ReportContent, path: Path) -> None:
    """Write the PDF report for ``content`` to ``path``."""
    write_pdf(render_report_html(content), path)


def render_report_html(content: ReportContent) -> str:
    """The report as one self-contained HTML document (CSS and charts inline)."""
    inner = {
        "summary": _summary(content),
        "what_changed": _section(content.what_changed),
        "method": _method(content),
        "overview": _overview(content),
        "compare": _compare(content),
        "segments": _segments(content),
        "validation": _validation(content),
        "outcomes": _outcomes(content),
        "lifecycle": _lifecycle(content),
        "bias": _section(content.bias),
        "privacy": _section(content.privacy),
        "status": _section(content.status_detail),
        "appendix": _appendix(content),
    }
    chapters = _chapters(content)
    body = [_chapter(chapters, key, inner[key]) for key, _ in chapters]
    return document(
        title=content.title,
        author=content.client,
        description=content.footer,
        cover=_cover(content),
        toc=_toc(content),
        body="\n".join(body),
    )


# -- building blocks -------------------------------------------------------------------------


def _segment_anchor(segment: SegmentContent) -> str:
    return f"segment-{segment.segment}"


def _chapter(chapters: tuple[tuple[str, str], ...], key: str, inner: str) -> str:
    number = [k for k, _ in chapters].index(key) + 1
    heading = f'<h2 id="{key}">{number}&ensp;{escape(dict(chapters)[key])}</h2>'
    return f'<section class="chapter" id="chapter-{key}">{heading}\n{inner}</section>'


# -- sections --------------------------------------------------------------------------------


def _cover(content: ReportContent) -> str:
    return (
        '<div class="band">'
        f"<h1>{escape(content.title)}</h1>"
        '<div class="rule"></div>'
        f'<p class="client">Prepared for <span>{escape(content.client)}</span></p>'
        f'<p class="date">{escape(content.date_text)}</p>'
        "</div>"
        '<div class="meta">'
        f'<p><span class="version">{escape(content.footer)}</span>&ensp;'
        f'<span class="badge">{"Approved" if content.approved else "Draft"}</span></p>'
        f'<p class="edition">{escape(content.edition)}</p>'
        f"<p>Full version hash: {escape(content.version_hash) or DASH}</p>"
        f"<p>{format_count(content.customers)} customers · {len(content.segments)} segments</p>"
        "</div>"
    )


def _toc(content: ReportContent) -> str:
    items = []
    for number, (key, title) in enumerate(_chapters(content), start=1):
        items.append(f'<li><a href="#{key}">{number}&ensp;{escape(title)}</a></li>')
        if key == "segments":
            items += [
                f'<li class="sub"><a href="#{_segment_anchor(s)}">{escape(s.name)}</a></li>'
                for s in content.segments
            ]
    return "\n".join(items)


def _summary(content: ReportContent) -> str:
    tiles = "".join(
        f'<td><div class="tile-label">{escape(k.label)}</div>'
        f'<div class="tile-value">{escape(k.value)}</div>'
        f'<div class="tile-note">{escape(k.note)}</div></td>'
        for k in content.key_numbers
    )
    tiles = f'<div class="tiles"><table class="tiles"><tr>{tiles}</tr></table></div>'
    findings = content.summary
    lead = ""
    if content.recommendation:  # the structure verdict leads the report, above the figures
        lead = f'<p class="recommendation">{escape(content.recommendation)}</p>'
        findings = tuple(line for line in findings if line != content.recommendation)
    return f"{lead}{tiles}<h3>Key findings</h3>{bullets(findings)}"


def _method(content: ReportContent) -> str:
    rows = [
        (label, format_number(mean), f"{missing:,}")
        for label, mean, (_, missing) in zip(
            content.feature_labels, content.population_means, content.missing, strict=True
        )
    ]
    rows.append(("All features", "", f"{content.missing_total:,}"))
    table = html_table(
        ("Feature", "Average", "Missing values imputed"),
        rows,
        numeric=(1, 2),
        row_classes=[""] * (len(rows) - 1) + ["total"],
    )
    return (
        f"<h3>Features</h3>{table}"
        f"<h3>How the segments were found</h3>{bullets(content.method)}"
        f"<h3>Why this solution</h3>{bullets(content.selection)}" + _glossary(content)
    )


def _glossary(content: ReportContent) -> str:
    if not content.glossary:
        return ""
    rows = "".join(f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>" for term, meaning in content.glossary)
    return f'<h3 id="glossary">Words used in this report</h3><dl class="glossary">{rows}</dl>'


def _overview(content: ReportContent) -> str:
    rows = [(s.label, s.name, s.size_text, s.share_text) for s in content.segments]
    table = html_table(("ID", "Segment", "Customers", "Share"), rows, numeric=(2, 3), nowrap=(0,))
    chart = figure(size_chart(content), "Customers per segment, with their share of all customers.")
    return chart + table


def _compare(content: ReportContent) -> str:
    caption = (
        "Each bar is a segment's mean against the customer average, in per cent "
        "(0 = average). Features with an average of zero are left out."
    )
    rows = [
        (label, format_number(mean), *(s.figures[i].mean_text for s in content.segments))
        for i, (label, mean) in enumerate(zip(content.feature_labels, content.population_means, strict=True))
    ]
    headers = ("Feature", "Average", *(s.label for s in content.segments))
    numeric = tuple(range(1, len(headers)))
    return (
        figure(comparison_chart(content), caption)
        + "<h3>Means per segment</h3>"
        + html_table(headers, rows, numeric=numeric, keep=2)
    )


def _segments(content: ReportContent) -> str:
    parts = []
    for index, segment in enumerate(content.segments):
        color = segment_color(index)
        rows = [(f.label, f.mean_text, f.average_text, f.difference_text) for f in segment.figures]
        strong = [
            (i, 3)
            for i, f in enumerate(segment.figures)
            if f.difference is None or abs(f.difference) >= TRAIT_THRESHOLD
        ]
        table = html_table(
            ("Feature", "Segment", "Average", "Difference"), rows, numeric=(1, 2, 3), strong=strong
        )
        first = " first" if index == 0 else ""
        parts.append(
            f'<section class="segment{first}">'
            f'<h3 class="segment-title" id="{_segment_anchor(segment)}">'
            f'<span class="swatch" style="background:{color}"></span>'
            f"{escape(segment.name)}</h3>"
            f'<p class="kicker">{escape(segment.kicker)}</p>'
            f'<div class="share-bar"><span style="width:{min(segment.share, 1.0) * 100:.1f}%;'
            f'background:{color}"></span></div>'
            f"<h3>What sets them apart</h3>{bullets(segment.traits)}"
            "<h3>The rule that assigns it</h3>"
            + bullets(list(segment.rules) + ([segment.rule_note] if segment.rule_note else []))
            + f'<p class="note">{escape(content.rules_note)}</p>'
            + f"<h3>Suggested actions and experiments</h3>{bullets(segment.actions)}"
            + f"<h3>Key figures against the average</h3>{table}"
            + figure(segment_chart(segment, color), "Difference from the customer average, per feature.")
            + "</section>"
        )
    return "\n".join(parts)


def _validation(content: ReportContent) -> str:
    table = content.validation
    if not table.rows:
        return "<p>No candidate solutions were recorded.</p>" + bullets(content.selection)
    numeric = tuple(j for j, h in enumerate(table.headers) if h not in ("Algorithm", "Choice"))
    classes = ["selected" if i == table.selected_row else "" for i in range(len(table.rows))]
    return (
        html_table(table.headers, table.rows, numeric=numeric, row_classes=classes)
        + f'<p class="note">{escape(table.note)}</p>'
        + f"<h3>Why this solution</h3>{bullets(content.selection)}"
        + f"<h3>Stability</h3>{bullets(content.stability)}"
    )


def _outcomes(content: ReportContent) -> str:
    """Each outcome's table first, then its overall test and reading (a section without a table
    says why there is nothing to show)."""
    parts = []
    for section in content.outcome_pages:
        table = section.table
        parts.append(f"<h3>{escape(section.title)}</h3>" if table is not None else "")
        if table is not None:
            parts.append(f'<p class="note">{escape(table.caption)}</p>')
            parts.append(html_table(table.headers, table.rows, numeric=table.numeric))
        parts += [f"<h4>{escape(title)}</h4>{bullets(lines)}" for title, lines in section.groups]
    return "".join(parts)


def _lifecycle(content: ReportContent) -> str:
    """Each lifecycle section under its own heading, the heatmap after the CLV table and the
    state diagram after the states table."""
    part = content.customer_lifecycle
    if part is None:
        return ""
    parts = [_section(part.clv, heading=part.clv.title) if part.clv else ""]
    if part.cohorts is not None:
        older = part.cohorts.older_customers
        caption = (
            f"Share of each {part.cohorts.period}'s new customers who bought again in each later "
            f"{part.cohorts.period} (0 is the first); periods not yet over by as_of are left blank"
            + (f"; {format_count(older)} customers of older cohorts are not shown." if older else ".")
        )
        parts.append(f"<h3>Retention by cohort</h3>{figure(cohort_heatmap(part.cohorts), caption)}")
    if part.states is not None:
        parts.append(_section(part.states, heading=part.states.title))
    if part.diagram is not None:
        caption = (
            f"Each arrow is the chance of moving to another state next {part.diagram.period}; "
            "chances below 0.5% are left out."
        )
        parts.append(figure(state_diagram_svg(part.diagram), caption))
    if part.movers is not None:
        parts.append(_section(part.movers, heading=part.movers.title))
    return "".join(parts)


def _section(section: Section | None, *, heading: str = "") -> str:
    """A governance section: its text groups, then its table (numbers right-aligned)."""
    if section is None:
        return ""
    parts = [f"<h3>{escape(heading)}</h3>"] if heading else []
    for title, lines in section.groups:
        parts.append(f"<h4>{escape(title)}</h4>{bullets(lines)}")
    if section.table is not None and section.table.rows:
        if section.table.caption:
            parts.append(f'<p class="note">{escape(section.table.caption)}</p>')
        parts.append(html_table(section.table.headers, section.table.rows, numeric=section.table.numeric))
    return "".join(parts)


def _appendix(content: ReportContent) -> str:
    table = content.validation
    numeric = tuple(j for j, h in enumerate(table.headers) if h not in ("Algorithm", "Choice"))
    classes = ["selected" if i == table.selected_row else "" for i in range(len(table.rows))]
    candidates = (
        html_table(table.headers, table.rows, numeric=numeric, row_classes=classes)
        if table.rows
        else "<p>No candidate solutions were recorded.</p>"
    )
    features = content.features_detail
    return (
        _section(features, heading="Features and data quality")
        + "<h3>All candidate solutions</h3>"
        + candidates
    )
