"""The executive deck: a 16:9 PowerPoint built from a :class:`ReportContent`.

Slides, in order: title, executive summary, what changed (a retrained version), data and method, glossary, segment overview,
segments compared, one slide per segment, validation, the outcome pages, a log's lifecycle slides,
the governance sections and the appendix.
Every slide carries the edition footer (draft, or approved by whom and when) and speaker notes.
Charts are native chart objects so a consultant can restyle or re-label them in PowerPoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pptx import Presentation
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.slide import Slide
from pptx.util import Inches

from . import deck_notes as notes
from .content import TRAIT_THRESHOLD, ReportContent, SegmentContent
from .deck_lifecycle import lifecycle_pages
from .deck_pages import Page, candidate_pages, glossary_pages, section_pages_of
from .deck_parts import (
    ACCENT,
    MUTED,
    NAVY,
    PANEL,
    RULE,
    WHITE,
    Box,
    Column,
    add_difference_chart,
    add_rect,
    add_size_chart,
    add_table,
    add_text,
    add_tile,
    fill_frame,
    segment_color,
)
from .deck_sections import (
    BODY_BOTTOM,
    BODY_TOP,
    HEIGHT,
    INNER,
    LEFT,
    RIGHT,
    WIDTH,
    heading,
    rows_or_note,
    stack_sections,
)
from .deck_sections import table_size as _table_size
from .formatting import format_number

FOOTER_Y = 7.0
EDITION_W = 7.2  # inches: room for the longest edition line at 8 pt
TITLE_ONLY_LAYOUT = 5
MAX_SUMMARY_BULLETS = 7


def build_deck(content: ReportContent, path: Path) -> None:
    """Write the executive deck for ``content`` to ``path`` (a .pptx file)."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(WIDTH), Inches(HEIGHT)
    pages: list[Page] = [
        (_title_slide, notes.title_notes(content)),
        (_summary_slide, notes.summary_notes(content)),
        *(section_pages_of(content.what_changed) if content.what_changed is not None else []),
        (_method_slide, notes.method_notes(content)),
        *glossary_pages(content),
        (_overview_slide, notes.overview_notes(content)),
        (_compare_slide, notes.compare_notes(content)),
    ]
    pages += [(_segment_builder(s), notes.segment_notes(content, s)) for s in content.segments]
    pages.append((_validation_slide, notes.validation_notes(content)))
    for section in content.outcome_pages:  # per outcome column and out-of-time outcome
        pages += section_pages_of(section)
    pages += lifecycle_pages(content.customer_lifecycle)  # a transaction log's only
    sections = [content.bias, content.privacy, content.status_detail, content.features_detail]
    for section in sections:
        if section is not None:
            pages += section_pages_of(section)
    pages += candidate_pages(content)
    for number, (build, text) in enumerate(pages, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
        build(slide, content)
        _footer(slide, content, number, len(pages), dark=number == 1)
        slide.notes_slide.notes_text_frame.text = text
    deck.save(str(path))


# -- frame -----------------------------------------------------------------------------------


def _footer(slide: Slide, content: ReportContent, number: int, total: int, *, dark: bool) -> None:
    """The edition (draft, or approved by whom and when) on the left; version, client, page right."""
    color = RULE if dark else MUTED
    if not dark:
        add_rect(slide, Box(LEFT, FOOTER_Y - 0.08, INNER, 0.01), RULE)
    add_text(
        slide,
        Box(LEFT, FOOTER_Y, EDITION_W, 0.4),
        [content.edition],
        max_pt=10,
        min_pt=7,
        bold=True,
        color=color,
    )
    right = f"{content.footer} · {content.client} · {number} / {total}"
    add_text(
        slide,
        Box(LEFT + EDITION_W, FOOTER_Y, INNER - EDITION_W, 0.4),
        [right],
        max_pt=10,
        min_pt=7,
        color=color,
        align=PP_ALIGN.RIGHT,
    )


# -- slides ----------------------------------------------------------------------------------


def _title_slide(slide: Slide, content: ReportContent) -> None:
    slide.background.fill.solid()
    slide.background.fill.fore_color.rgb = NAVY
    # Bottom-anchored so the accent rule sits right under the title whatever its length.
    box = Box(LEFT, 2.2, INNER, 1.8)
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (Inches(v) for v in (box.x, box.y, box.w, box.h))
    fill_frame(
        title.text_frame,
        box,
        [content.title],
        max_pt=40,
        min_pt=24,
        bold=True,
        color=WHITE,
        anchor=MSO_ANCHOR.BOTTOM,
    )
    add_rect(slide, Box(LEFT + 0.06, 4.1, 1.2, 0.08), ACCENT)
    add_text(
        slide,
        Box(LEFT, 4.3, INNER, 0.55),
        [f"Prepared for {content.client}"],
        max_pt=22,
        min_pt=14,
        color=WHITE,
    )
    details = [content.date_text, content.footer, content.edition]
    add_text(slide, Box(LEFT, 4.95, INNER, 1.3), details, max_pt=16, min_pt=11, color=RULE)


def _summary_slide(slide: Slide, content: ReportContent) -> None:
    heading(slide, "Executive summary")
    gap = 0.25
    width = (INNER - gap * (len(content.key_numbers) - 1)) / max(len(content.key_numbers), 1)
    for index, key in enumerate(content.key_numbers):
        add_tile(
            slide, Box(LEFT + index * (width + gap), BODY_TOP, width, 1.55), key.label, key.value, key.note
        )
    add_text(
        slide, Box(LEFT, 3.35, INNER, 0.4), ["Key findings"], max_pt=16, min_pt=12, bold=True, color=NAVY
    )
    add_text(
        slide,
        Box(LEFT, 3.8, INNER, BODY_BOTTOM - 3.8),
        _capped(content.summary, MAX_SUMMARY_BULLETS),
        max_pt=16,
        min_pt=11,
        bullets=True,
    )


def _capped(lines: Sequence[str], limit: int) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return [*lines[: limit - 1], f"… and {len(lines) - limit + 1} more (see the segment slides)."]


def _method_slide(slide: Slide, content: ReportContent) -> None:
    heading(slide, "Data and method")
    columns = [
        Column("Feature", 3.0),
        Column("Average", 1.5, PP_ALIGN.RIGHT),
        Column("Missing (imputed)", 2.2, PP_ALIGN.RIGHT),
    ]
    rows = [
        (label, format_number(mean), f"{missing:,}")
        for label, mean, (_, missing) in zip(
            content.feature_labels, content.population_means, content.missing, strict=True
        )
    ]
    rows.append(("All features", "", f"{content.missing_total:,}"))
    size = _table_size(columns, rows, BODY_BOTTOM - BODY_TOP)
    add_table(
        slide,
        LEFT,
        BODY_TOP,
        columns,
        rows_or_note(columns, rows, size, what="features"),
        size=size,
        emphasis=[(len(rows) - 1, 0), (len(rows) - 1, 2)],
    )
    sections = [("How the segments were found", content.method), ("Why this solution", content.selection)]
    stack_sections(slide, RIGHT, sections)


def _overview_slide(slide: Slide, content: ReportContent) -> None:
    heading(slide, "Segment overview")
    chart = Box(LEFT, BODY_TOP, 6.4, BODY_BOTTOM - BODY_TOP)
    add_size_chart(slide, chart, [s.short_name for s in content.segments], [s.size for s in content.segments])
    columns = [
        Column("Segment", 3.33),
        Column("Customers", 1.3, PP_ALIGN.RIGHT),
        Column("Share", 0.9, PP_ALIGN.RIGHT),
    ]
    rows = [(s.name, s.size_text, s.share_text) for s in content.segments]
    x = LEFT + 6.6
    size = _table_size(columns, rows, BODY_BOTTOM - BODY_TOP)
    add_table(slide, x, BODY_TOP, columns, rows_or_note(columns, rows, size, what="segments"), size=size)


def _compare_slide(slide: Slide, content: ReportContent) -> None:
    heading(slide, "How the segments differ")
    note = "Each bar is a segment's mean against the customer average, in per cent (0 = average)."
    add_text(slide, Box(LEFT, BODY_TOP - 0.1, INNER, 0.4), [note], max_pt=13, min_pt=10, color=MUTED)
    series = [
        (s.short_name, [None if f.difference is None else round(f.difference * 100, 1) for f in s.figures])
        for s in content.segments
    ]
    add_difference_chart(
        slide,
        Box(LEFT, BODY_TOP + 0.35, INNER, BODY_BOTTOM - BODY_TOP - 0.35),
        content.feature_labels,
        series,
    )


def _segment_builder(segment: SegmentContent):
    def build(slide: Slide, content: ReportContent) -> None:
        _segment_slide(slide, content, segment)

    return build


def _segment_slide(slide: Slide, content: ReportContent, segment: SegmentContent) -> None:
    heading(slide, segment.name, height=0.95)
    color = segment_color(content.segments.index(segment))
    add_text(slide, Box(LEFT, 1.45, INNER, 0.38), [segment.kicker], max_pt=15, min_pt=11, color=MUTED)
    add_rect(slide, Box(LEFT, 1.92, 6.6, 0.14), PANEL)
    add_rect(slide, Box(LEFT, 1.92, max(6.6 * min(segment.share, 1.0), 0.04), 0.14), color)
    top = 2.35
    columns = [
        Column("Feature", 2.4),
        Column("Segment", 1.4, PP_ALIGN.RIGHT),
        Column("Average", 1.4, PP_ALIGN.RIGHT),
        Column("Difference", 1.4, PP_ALIGN.RIGHT),
    ]
    rows = [(f.label, f.mean_text, f.average_text, f.difference_text) for f in segment.figures]
    size = _table_size(columns, rows, BODY_BOTTOM - top)
    emphasis = [
        (i, 3)
        for i, f in enumerate(segment.figures)
        if f.difference is None or abs(f.difference) >= TRAIT_THRESHOLD
    ]
    add_table(
        slide,
        LEFT,
        top,
        columns,
        rows_or_note(columns, rows, size, BODY_BOTTOM - top, what="features"),
        size=size,
        emphasis=emphasis,
    )
    # The deck shows the largest rule; the PDF and rules.txt list every one.
    rules = [*segment.rules[:1], *([segment.rule_note] if segment.rule_note else [])]
    if len(segment.rules) > 1 and not segment.rule_note:
        rules.append(f"{len(segment.rules) - 1} more rule(s) in the PDF report and rules.txt.")
    groups = [
        ("What sets them apart", segment.traits[:3]),
        ("The rule that assigns it", rules[:2]),
        ("Suggested actions and experiments", segment.actions[:2]),
    ]
    stack_sections(slide, Box(RIGHT.x, top - 0.1, RIGHT.w, BODY_BOTTOM - top + 0.1), groups, max_pt=13)


def _validation_slide(slide: Slide, content: ReportContent) -> None:
    heading(slide, "Validation: how many segments?")
    table = content.validation
    widths = {"Algorithm": 1.75, "k": 0.5, "Silhouette": 1.15, "Stability": 1.05, "Choice": 1.0}
    columns = [
        Column(h, widths.get(h, 1.6), PP_ALIGN.LEFT if h in ("Algorithm", "Choice") else PP_ALIGN.RIGHT)
        for h in table.headers
    ]
    rows, highlight = _validation_rows(table.rows, table.selected_row)
    height = 0.5
    if rows:
        size = min(_table_size(columns, rows, BODY_BOTTOM - BODY_TOP), 12)
        height = add_table(slide, LEFT, BODY_TOP, columns, rows, size=size, highlight=highlight)
    else:
        add_text(
            slide,
            Box(LEFT, BODY_TOP, 6.5, 0.5),
            ["No candidate solutions were recorded."],
            max_pt=14,
            min_pt=11,
        )
    notes = [table.note]
    if len(rows) < len(table.rows):
        shown = f"Showing {len(rows)} of {len(table.rows)} candidates; the PDF report lists all"
        notes.insert(0, shown + ", as do the appendix slides.")
    table_w = max(sum(c.width for c in columns), 6.5)
    right = Box(LEFT + sum(c.width for c in columns) + 0.4, BODY_TOP, 0, RIGHT.h)
    right = Box(max(right.x, RIGHT.x), right.y, LEFT + INNER - max(right.x, RIGHT.x), right.h)
    groups = [
        ("Why this solution", [content.choice or content.selection[0], *content.selection[1:2]]),
        ("Stability", content.stability),
    ]
    below = BODY_BOTTOM - (BODY_TOP + height + 0.15)
    if below >= 0.6:
        # The reading notes go under the table, so the reasons beside it keep a readable size.
        box = Box(LEFT, BODY_TOP + height + 0.15, table_w, min(below, 1.2))
        add_text(slide, box, notes, max_pt=12, min_pt=9, color=MUTED)
    else:
        groups.append(("Reading the table", notes))
    stack_sections(slide, right, groups)


def _validation_rows(
    rows: Sequence[Sequence[str]], selected: int | None, limit: int = 12
) -> tuple[list[Sequence[str]], int | None]:
    """At most ``limit`` rows around the selected one, so the table stays on the slide."""
    if len(rows) <= limit:
        return list(rows), selected
    start = 0 if selected is None else min(max(selected - limit // 2, 0), len(rows) - limit)
    kept = list(rows[start : start + limit])
    return kept, None if selected is None else selected - start
