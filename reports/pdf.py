"""The paginated PDF report: HTML built from a :class:`ReportContent`, rendered by WeasyPrint.

The HTML is assembled here with ``html.escape`` and dropped into ``templates/reports/
report.html`` with :class:`string.Template`, so no template engine or Django settings are
needed. Page numbers, the running version footer and the contents' page references are all
CSS (``@page`` counters, ``string-set``, ``target-counter``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template

from .content import TRAIT_THRESHOLD, ReportContent, SegmentContent
from .formatting import DASH, format_count, format_number
from .sections import Section
from .svg import comparison_chart, segment_chart, segment_color, size_chart

# Not under templates/: these are string.Template files, never rendered by Django.
TEMPLATES = Path(__file__).resolve().parent / "document_templates"

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


def build_report_pdf(content: ReportContent, path: Path) -> None:
    """Write the PDF report for ``content`` to ``path``."""
    from weasyprint import HTML  # heavy import, needed only where PDFs are rendered

    HTML(string=render_report_html(content), base_url=str(TEMPLATES)).write_pdf(str(path))


def render_report_html(content: ReportContent) -> str:
    """The report as one self-contained HTML document (CSS and charts inline)."""
    template = Template((TEMPLATES / "report.html").read_text(encoding="utf-8"))
    body = [
        _chapter("summary", _summary(content)),
        _chapter("method", _method(content)),
        _chapter("overview", _overview(content)),
        _chapter("compare", _compare(content)),
        _chapter("segments", _segments(content)),
        _chapter("validation", _validation(content)),
        _chapter("outcomes", _outcomes(content)),
        _chapter("bias", _section(content.bias)),
        _chapter("privacy", _section(content.privacy)),
        _chapter("status", _section(content.status_detail)),
        _chapter("appendix", _appendix(content)),
    ]
    return template.substitute(
        title=escape(content.title),
        author=escape(content.client),
        description=escape(content.footer),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        cover=_cover(content),
        toc=_toc(content),
        body="\n".join(body),
    )


# -- building blocks -------------------------------------------------------------------------


def _segment_anchor(segment: SegmentContent) -> str:
    return f"segment-{segment.segment}"


def _chapter(key: str, inner: str) -> str:
    number = [k for k, _ in CHAPTERS].index(key) + 1
    heading = f'<h2 id="{key}">{number}&ensp;{escape(dict(CHAPTERS)[key])}</h2>'
    return f'<section class="chapter" id="chapter-{key}">{heading}\n{inner}</section>'


# A name joined by an en dash (Calinski\u2013Harabasz, Davies\u2013Bouldin) is one term: a line may
# break before or after it, never at its dash.
_DASHED_TERM = re.compile(r"\S+\u2013\S+")


def _prose(text: str) -> str:
    return _DASHED_TERM.sub(lambda term: f'<span class="term">{term.group()}</span>', escape(text))


def _bullets(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{_prose(line)}</li>" for line in lines) + "</ul>"


# Beyond this many columns a table no longer fits a portrait A4 page at 9.5 pt: it is split
# into column groups, each repeating the first (label) column.
MAX_COLUMNS = 8


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    row_classes: Sequence[str] = (),
    strong: Sequence[tuple[int, int]] = (),
    nowrap: Sequence[int] = (),
    keep: int = 1,
) -> str:
    """An HTML table; a wide one becomes several, each with the first ``keep`` columns repeated."""
    if len(headers) <= MAX_COLUMNS:
        return _one_table(headers, rows, numeric, row_classes, strong, nowrap)
    # Balanced groups: 12 segment columns read better as 6 + 6 than as 6 + 6 + 0 or 7 + 5.
    groups = -(-(len(headers) - keep) // (MAX_COLUMNS - keep))
    step = -(-(len(headers) - keep) // groups)
    parts = []
    for start in range(keep, len(headers), step):
        columns = [*range(keep), *range(start, min(start + step, len(headers)))]
        parts.append(
            _one_table(
                [headers[j] for j in columns],
                [[row[j] for j in columns] for row in rows],
                [i for i, j in enumerate(columns) if j in numeric],
                row_classes,
                [(r, columns.index(j)) for r, j in strong if j in columns],
                [i for i, j in enumerate(columns) if j in nowrap],
            )
        )
    return "".join(parts)


def _header_words(text: str) -> str:
    # Each word kept whole (a header never breaks inside a word); lines break between words.
    return " ".join(f'<span class="word">{escape(word)}</span>' for word in text.split())


def _one_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int],
    row_classes: Sequence[str],
    strong: Sequence[tuple[int, int]],
    nowrap: Sequence[int],
) -> str:
    def cell(tag: str, i: int, j: int, text: str) -> str:
        flags = ("num", j in numeric), ("strong", (i, j) in strong), ("nowrap", j in nowrap)
        classes = " ".join(name for name, on in flags if on)
        attr = f' class="{classes}"' if classes else ""
        inner = _header_words(text) if tag == "th" else escape(text)
        return f"<{tag}{attr}>{inner}</{tag}>"

    head = "<tr>" + "".join(cell("th", -1, j, h) for j, h in enumerate(headers)) + "</tr>"
    lines = []
    for i, row in enumerate(rows):
        css = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        attr = f' class="{css}"' if css else ""
        lines.append(f"<tr{attr}>" + "".join(cell("td", i, j, text) for j, text in enumerate(row)) + "</tr>")
    return f'<table class="data"><thead>{head}</thead><tbody>{"".join(lines)}</tbody></table>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


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
    for number, (key, title) in enumerate(CHAPTERS, start=1):
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
    return f"{lead}{tiles}<h3>Key findings</h3>{_bullets(findings)}"


def _method(content: ReportContent) -> str:
    rows = [
        (label, format_number(mean), f"{missing:,}")
        for label, mean, (_, missing) in zip(
            content.feature_labels, content.population_means, content.missing, strict=True
        )
    ]
    rows.append(("All features", "", f"{content.missing_total:,}"))
    table = _table(
        ("Feature", "Average", "Missing values imputed"),
        rows,
        numeric=(1, 2),
        row_classes=[""] * (len(rows) - 1) + ["total"],
    )
    return (
        f"<h3>Features</h3>{table}"
        f"<h3>How the segments were found</h3>{_bullets(content.method)}"
        f"<h3>Why this solution</h3>{_bullets(content.selection)}" + _glossary(content)
    )


def _glossary(content: ReportContent) -> str:
    if not content.glossary:
        return ""
    rows = "".join(f"<dt>{escape(term)}</dt><dd>{escape(meaning)}</dd>" for term, meaning in content.glossary)
    return f'<h3 id="glossary">Words used in this report</h3><dl class="glossary">{rows}</dl>'


def _overview(content: ReportContent) -> str:
    rows = [(s.label, s.name, s.size_text, s.share_text) for s in content.segments]
    table = _table(("ID", "Segment", "Customers", "Share"), rows, numeric=(2, 3), nowrap=(0,))
    chart = _figure(size_chart(content), "Customers per segment, with their share of all customers.")
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
        _figure(comparison_chart(content), caption)
        + "<h3>Means per segment</h3>"
        + _table(headers, rows, numeric=numeric, keep=2)
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
        table = _table(
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
            f"<h3>What sets them apart</h3>{_bullets(segment.traits)}"
            "<h3>The rule that assigns it</h3>"
            + _bullets(list(segment.rules) + ([segment.rule_note] if segment.rule_note else []))
            + f'<p class="note">{escape(content.rules_note)}</p>'
            + f"<h3>Suggested actions and experiments</h3>{_bullets(segment.actions)}"
            + f"<h3>Key figures against the average</h3>{table}"
            + _figure(segment_chart(segment, color), "Difference from the customer average, per feature.")
            + "</section>"
        )
    return "\n".join(parts)


def _validation(content: ReportContent) -> str:
    table = content.validation
    if not table.rows:
        return "<p>No candidate solutions were recorded.</p>" + _bullets(content.selection)
    numeric = tuple(j for j, h in enumerate(table.headers) if h not in ("Algorithm", "Choice"))
    classes = ["selected" if i == table.selected_row else "" for i in range(len(table.rows))]
    return (
        _table(table.headers, table.rows, numeric=numeric, row_classes=classes)
        + f'<p class="note">{escape(table.note)}</p>'
        + f"<h3>Why this solution</h3>{_bullets(content.selection)}"
        + f"<h3>Stability</h3>{_bullets(content.stability)}"
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
            parts.append(_table(table.headers, table.rows, numeric=table.numeric))
        parts += [f"<h4>{escape(title)}</h4>{_bullets(lines)}" for title, lines in section.groups]
    return "".join(parts)


def _section(section: Section | None, *, heading: str = "") -> str:
    """A governance section: its text groups, then its table (numbers right-aligned)."""
    if section is None:
        return ""
    parts = [f"<h3>{escape(heading)}</h3>"] if heading else []
    for title, lines in section.groups:
        parts.append(f"<h4>{escape(title)}</h4>{_bullets(lines)}")
    if section.table is not None and section.table.rows:
        if section.table.caption:
            parts.append(f'<p class="note">{escape(section.table.caption)}</p>')
        parts.append(_table(section.table.headers, section.table.rows, numeric=section.table.numeric))
    return "".join(parts)


def _appendix(content: ReportContent) -> str:
    table = content.validation
    numeric = tuple(j for j, h in enumerate(table.headers) if h not in ("Algorithm", "Choice"))
    classes = ["selected" if i == table.selected_row else "" for i in range(len(table.rows))]
    candidates = (
        _table(table.headers, table.rows, numeric=numeric, row_classes=classes)
        if table.rows
        else "<p>No candidate solutions were recorded.</p>"
    )
    features = content.features_detail
    return (
        _section(features, heading="Features and data quality")
        + "<h3>All candidate solutions</h3>"
        + candidates
    )
