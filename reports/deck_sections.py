"""Slide bodies built from text: stacked bullet groups, tables sized to fit, generic sections.

The deck's geometry lives here too, so the slide builders in :mod:`reports.deck` and the
section bodies share one set of margins.
"""

from __future__ import annotations

from collections.abc import Sequence

from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.slide import Slide
from pptx.util import Inches

from .deck_parts import (
    ACCENT,
    BULLET_INDENT,
    H_MARGIN,
    MUTED,
    NAVY,
    SPACE_AFTER,
    V_MARGIN,
    Box,
    Column,
    add_rect,
    add_table,
    add_text,
    fill_frame,
    table_row_heights,
)
from .sections import Section
from .textfit import text_height, text_width

WIDTH, HEIGHT = 13.333, 7.5
LEFT = 0.6
INNER = WIDTH - 2 * LEFT
BODY_TOP = 1.55
BODY_BOTTOM = 6.75
MAX_TABLE_SIZE = 14
RIGHT = Box(LEFT + 7.0, BODY_TOP, INNER - 7.0, BODY_BOTTOM - BODY_TOP)
TABLE_ROWS_PER_SLIDE = 14


def heading(slide: Slide, text: str, *, height: float = 0.85) -> None:
    """The slide's title placeholder (kept, so outlines and screen readers see a title)."""
    add_rect(slide, Box(LEFT, 0.32, 0.7, 0.06), ACCENT)
    box = Box(LEFT, 0.45, INNER, height)
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (Inches(v) for v in (box.x, box.y, box.w, box.h))
    fill_frame(
        title.text_frame, box, [text], max_pt=28, min_pt=18, bold=True, color=NAVY, anchor=MSO_ANCHOR.TOP
    )


def stack_sections(
    slide: Slide, box: Box, sections: Sequence[tuple[str, Sequence[str]]], *, max_pt: int = 14
) -> None:
    """Headed bullet groups stacked in ``box`` at one shared font size that fits them all.

    When even 10 pt does not fit, the longest group loses its last bullet until it does.
    """
    heading_h, gap = 0.42, 0.12
    groups = [list(lines) for _, lines in sections]
    while True:
        for size in range(max_pt, 9, -1):
            heights = [bullets_height(lines, box.w, size) for lines in groups]
            if sum(heights) + len(groups) * (heading_h + gap) <= box.h:
                break
        else:
            longest = max(groups, key=len)
            if len(longest) > 1:
                longest.pop()
                continue
            # Still too tall: share the box out; each text box then drops or cuts what it cannot hold.
            spare = box.h - len(groups) * (heading_h + gap)
            heights = [max(spare, 0.3) * h / sum(heights) for h in heights]
        break
    y = box.y
    for (heading, _), lines, height in zip(sections, groups, heights, strict=True):
        add_text(
            slide, Box(box.x, y, box.w, heading_h), [heading], max_pt=16, min_pt=12, bold=True, color=NAVY
        )
        if lines:
            add_text(
                slide, Box(box.x, y + heading_h, box.w, height), lines, max_pt=size, min_pt=size, bullets=True
            )
        y += heading_h + height + gap


def bullets_height(lines: Sequence[str], width: float, size: int) -> float:
    """Inches a bullet list needs in a box ``width`` inches wide, margins included."""
    if not lines:
        return 0.0
    # Wrapped into 92% of the width with 5% more height: an estimate that errs short on long
    # lowercase lines must not let the box overflow in PowerPoint or LibreOffice.
    inner = 0.92 * Box(0, 0, width, 0).text_width_pt(BULLET_INDENT)
    return 1.05 * text_height(lines, inner, size, space_after=SPACE_AFTER) / 72 + 2 * V_MARGIN + 0.02


def words_fit(columns: Sequence[Column], rows: Sequence[Sequence[str]], size: int) -> bool:
    """Whether every word of the header and the cells fits its column whole at ``size`` (bold,
    as headers and emphasised cells are set), so no word breaks inside."""
    for j, column in enumerate(columns):
        room = (column.width - 2 * H_MARGIN) * 72
        words = [w for text in [column.header, *(r[j] for r in rows)] for w in text.split()]
        if any(text_width(word, size, bold=True) > room for word in words):
            return False
    return True


def table_size(columns: Sequence[Column], rows: Sequence[Sequence[str]], height: float) -> int:
    """Largest font size (14 down to 9) at which header and rows fit ``height`` inches with no
    word broken inside; at 9 pt when none does."""
    header = [c.header for c in columns]
    for size in range(MAX_TABLE_SIZE, 8, -1):
        if (
            words_fit(columns, rows, size)
            and sum(table_row_heights(columns, [header, *rows], size)) <= height
        ):
            return size
    return 9


def header_size(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], largest: int = MAX_TABLE_SIZE
) -> int:
    """Largest size up to ``largest`` at which no word of the table breaks (9 at the least)."""
    return next((size for size in range(largest, 8, -1) if words_fit(columns, rows, size)), 9)


def paginate(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], size: int, height: float
) -> list[list[Sequence[str]]]:
    """The rows cut into consecutive pages, each as many as fit ``height`` under the header."""
    header = [c.header for c in columns]
    pages: list[list[Sequence[str]]] = []
    current: list[Sequence[str]] = []
    for row in rows:
        if current and sum(table_row_heights(columns, [header, *current, row], size)) > height:
            pages.append(current)
            current = []
        current.append(row)
    if current or not pages:
        pages.append(current)
    return pages


def rows_that_fit(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    size: int,
    height: float = BODY_BOTTOM - BODY_TOP,
) -> list[Sequence[str]]:
    kept = list(rows)
    header = [c.header for c in columns]
    while kept and sum(table_row_heights(columns, [header, *kept], size)) > height:
        kept.pop()
    return kept


def rows_or_note(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    size: int,
    height: float = BODY_BOTTOM - BODY_TOP,
    *,
    what: str = "rows",
) -> list[Sequence[str]]:
    """The rows that fit ``height``; when some do not, the last kept row gives way to a note
    saying how many more there are and where, so no row goes missing unannounced."""
    kept = rows_that_fit(columns, rows, size, height)
    if len(kept) == len(rows):
        return kept
    header = [c.header for c in columns]
    while kept:
        kept = kept[:-1]
        note = (f"\u2026 {len(rows) - len(kept)} more {what} in the appendix", *[""] * (len(columns) - 1))
        if sum(table_row_heights(columns, [header, *kept, note], size)) <= height:
            return [*kept, note]
    return kept


def fitted_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    width: float,
    numeric: Sequence[int] = (),
    *,
    fill: bool = True,
) -> list[Column]:
    """Column widths from their longest cell: numbers keep their width, text columns share the rest.

    Without ``fill`` the table is no wider than its content needs (at most ``width``).
    """
    wanted = []
    for j, header in enumerate(headers):
        longest = max([text_width(header, 12, bold=True), *(text_width(r[j], 12) for r in rows)])
        wanted.append(min(max(longest / 72 + 2 * H_MARGIN + 0.15, 0.6), 4.5))
    fixed = sum(w for j, w in enumerate(wanted) if j in numeric)
    flexible = sum(w for j, w in enumerate(wanted) if j not in numeric)
    if flexible and fixed < width:
        scale = (width - fixed) / flexible
        if not fill:
            scale = min(scale, 1.0)
        wanted = [w if j in numeric else w * scale for j, w in enumerate(wanted)]
    else:
        wanted = [w * width / sum(wanted) for w in wanted]
    # No column narrower than its longest word; the widest column gives up the difference.
    for j in range(len(headers)):
        words = [w for text in [headers[j], *(r[j] for r in rows)] for w in text.split()] or [""]
        floor = max(text_width(w, 12, bold=True) for w in words) / 72 + 2 * H_MARGIN + 0.1
        if wanted[j] < floor:
            widest = max(range(len(wanted)), key=lambda i: wanted[i])
            deficit = floor - wanted[j]
            if widest != j and wanted[widest] - deficit > 1.0:
                wanted[widest] -= deficit
                wanted[j] = floor
    return [
        Column(h, round(w, 3), PP_ALIGN.RIGHT if j in numeric else PP_ALIGN.LEFT)
        for j, (h, w) in enumerate(zip(headers, wanted, strict=True))
    ]


SECTION_TABLE_W = 6.6


def _section_table(section: Section) -> tuple[list[Column], int, float, float]:
    """The columns, font size, top and height of a section's table, on every page alike."""
    table = section.table
    assert table is not None
    columns = fitted_columns(table.headers, table.rows, SECTION_TABLE_W, table.numeric)
    top, height = BODY_TOP, BODY_BOTTOM - BODY_TOP
    if table.caption:
        top, height = top + 0.68, height - 0.68
    # One size for every page: the largest at which no word breaks, capped so a page holds rows.
    size = min(header_size(columns, table.rows), 12)
    return columns, size, top, height


def section_pages(section: Section) -> list[list[Sequence[str]]]:
    """The section's table rows, page by page (one page with no rows when it has no table)."""
    if section.table is None or not section.table.rows:
        return [[]]
    columns, size, _, height = _section_table(section)
    return paginate(columns, section.table.rows, size, height)


def section_body(slide: Slide, section: Section, page: int = 0) -> None:
    """One page of a section below the slide's heading: its table on the left, its text groups
    beside it on the first page; later pages carry the rest of the table."""
    table = section.table
    if table is None or not table.rows:
        groups = list(section.groups)
        if len(groups) > 1:
            half = Box(LEFT, BODY_TOP, INNER / 2 - 0.2, BODY_BOTTOM - BODY_TOP)
            stack_sections(slide, half, groups[: len(groups) - len(groups) // 2])
            other = Box(LEFT + INNER / 2 + 0.2, BODY_TOP, INNER / 2 - 0.2, half.h)
            stack_sections(slide, other, groups[len(groups) - len(groups) // 2 :])
        else:
            stack_sections(slide, Box(LEFT, BODY_TOP, INNER, BODY_BOTTOM - BODY_TOP), groups, max_pt=16)
        return
    columns, size, top, _ = _section_table(section)
    pages = section_pages(section)
    if table.caption:
        add_text(
            slide,
            Box(LEFT, BODY_TOP, SECTION_TABLE_W, 0.62),
            [table.caption],
            max_pt=12,
            min_pt=9,
            color=MUTED,
        )
    add_table(slide, LEFT, top, columns, pages[page], size=size)
    if page == 0:
        groups = list(section.groups)
        if len(pages) > 1:
            groups.append(("Continued", [f"The table goes on over {len(pages) - 1} more slide(s)."]))
        stack_sections(slide, RIGHT, groups)
    else:
        shown = sum(len(p) for p in pages[:page])
        note = f"Rows {shown + 1} to {shown + len(pages[page])} of {len(table.rows)}."
        stack_sections(slide, RIGHT, [("Continued", [note])])
