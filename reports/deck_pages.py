"""Slides whose tables run over as many slides as they need: the glossary, the governance
sections and the appendix of candidate solutions. No table is cut short or runs into the footer.
"""

from __future__ import annotations

from collections.abc import Callable

from pptx.enum.text import PP_ALIGN
from pptx.slide import Slide

from .content import ReportContent
from .deck_notes import candidates_notes, glossary_notes, section_notes
from .deck_parts import Column, add_table
from .deck_sections import (
    BODY_BOTTOM,
    BODY_TOP,
    INNER,
    LEFT,
    fitted_columns,
    header_size,
    heading,
    paginate,
    section_body,
    section_pages,
)
from .sections import Section

Builder = Callable[[Slide, ReportContent], None]
Page = tuple[Builder, str]  # a slide's builder and its speaker notes


def _suffix(number: int, total: int) -> str:
    return f" ({number} of {total})" if total > 1 else ""


def glossary_pages(content: ReportContent) -> list[Page]:
    columns = [Column("Term", 3.0), Column("What it means", INNER - 3.0)]
    rows = [tuple(term) for term in content.glossary]
    if not rows:
        return []
    # One slide when every term fits at a size read from the back of a room (11 pt or more);
    # otherwise as many slides as 12 pt needs, rather than a wall of small print.
    height = BODY_BOTTOM - BODY_TOP
    largest = header_size(columns, rows, 12)
    fitting = [n for n in range(largest, 10, -1) if len(paginate(columns, rows, n, height)) == 1]
    size = fitting[0] if fitting else largest
    chunks = paginate(columns, rows, size, height)
    # The same number of terms on each slide (12 + 2 reads as an afterthought), when they fit.
    per = -(-len(rows) // len(chunks))
    even = [rows[i : i + per] for i in range(0, len(rows), per)]
    if all(len(paginate(columns, chunk, size, height)) == 1 for chunk in even):
        chunks = [list(chunk) for chunk in even]
    pages: list[Page] = []
    for number, chunk in enumerate(chunks, start=1):

        def build(slide: Slide, content: ReportContent, chunk=chunk, number=number) -> None:
            heading(slide, "Words used in this deck" + _suffix(number, len(chunks)))
            add_table(
                slide, LEFT, BODY_TOP, columns, chunk, size=size, emphasis=[(i, 0) for i in range(len(chunk))]
            )

        pages.append((build, glossary_notes(content)))
    return pages


def section_pages_of(section: Section) -> list[Page]:
    chunks = section_pages(section)
    pages: list[Page] = []
    for page in range(len(chunks)):

        def build(slide: Slide, content: ReportContent, page=page) -> None:
            heading(slide, section.title + (" (continued)" if page else ""))
            section_body(slide, section, page)

        pages.append((build, section_notes(section, page, len(chunks))))
    return pages


def candidate_pages(content: ReportContent) -> list[Page]:
    """The full candidate table in the appendix, over as many slides as it needs."""
    table = content.validation
    if not table.rows:
        return []
    numeric = [j for j, h in enumerate(table.headers) if h not in ("Algorithm", "Choice")]
    columns = fitted_columns(table.headers, table.rows, INNER, numeric, fill=False)
    columns = [
        Column(c.header, c.width, PP_ALIGN.RIGHT if j in numeric else PP_ALIGN.LEFT)
        for j, c in enumerate(columns)
    ]
    size = header_size(columns, table.rows, 12)
    chunks = paginate(columns, table.rows, size, BODY_BOTTOM - BODY_TOP)
    pages: list[Page] = []
    first = 0
    for number, chunk in enumerate(chunks, start=1):
        selected = table.selected_row
        highlight = selected - first if selected is not None and 0 <= selected - first < len(chunk) else None

        def build(
            slide: Slide, content: ReportContent, chunk=chunk, number=number, highlight=highlight
        ) -> None:
            heading(slide, "Appendix: all candidate solutions" + _suffix(number, len(chunks)))
            add_table(slide, LEFT, BODY_TOP, columns, chunk, size=size, highlight=highlight)

        pages.append((build, candidates_notes(number, len(chunks))))
        first += len(chunk)
    return pages
