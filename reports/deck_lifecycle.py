"""The deck's Lifecycle slides: CLV by segment, retention by cohort (a table shaded by
retention), lifecycle states, the state diagram (native ovals and arrows) and likely movers.

Native shapes and tables rather than pictures, so a consultant can restyle or re-label them in
PowerPoint like every other slide. None for a customer table: the deck then has no such slide.
"""

from __future__ import annotations

import math

from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.shapes.graphfrm import GraphicFrame
from pptx.slide import Slide
from pptx.util import Inches, Pt

from . import deck_notes as notes
from .content import ReportContent
from .deck_pages import Page, section_pages_of
from .deck_parts import ACCENT, INK, MUTED, NAVY, PANEL, WHITE, Box, Column, add_table, add_text
from .deck_sections import BODY_BOTTOM, BODY_TOP, INNER, LEFT, RIGHT, heading, stack_sections, table_size
from .formatting import format_count, format_share
from .lifecycle_figures import MIN_ARROW, shade, state_positions
from .lifecycle_sections import CohortGrid, LifecycleContent, StateDiagram

# The latest cohorts and first periods that fit a slide at a readable size; the PDF has them all.
MAX_COHORTS = 12
MAX_OFFSETS = 12
COHORT_TITLE = "Customer retention by cohort"
DIAGRAM_TITLE = "How customers move between lifecycle states"


def lifecycle_pages(part: LifecycleContent | None) -> list[Page]:
    """The lifecycle slides in reading order; none when the version has no lifecycle report."""
    if part is None:
        return []
    pages: list[Page] = []
    if part.clv is not None:
        pages += section_pages_of(part.clv)
    if part.cohorts is not None and part.cohorts.cohorts:
        grid = part.cohorts
        shown = min(len(grid.cohorts), MAX_COHORTS)
        pages.append((_cohort_builder(grid), notes.cohort_notes(shown, len(grid.cohorts))))
    if part.states is not None:
        pages += section_pages_of(part.states)
    if part.diagram is not None:
        pages.append((_diagram_builder(part.diagram), notes.state_diagram_notes()))
    if part.movers is not None:
        pages += section_pages_of(part.movers)
    return pages


# -- cohorts ---------------------------------------------------------------------------------


def cohort_rows(grid: CohortGrid) -> list[tuple[str, ...]]:
    """The slide's rows: the latest cohorts, each with its customers and retention shares
    (blank where the period had not ended)."""
    first = max(len(grid.cohorts) - MAX_COHORTS, 0)
    rows = []
    for i in range(first, len(grid.cohorts)):
        values = grid.retention[i][:MAX_OFFSETS]
        size = grid.customers[i] if i < len(grid.customers) else 0
        cells = tuple("" if v is None else format_share(v) for v in values)
        rows.append((grid.cohorts[i], format_count(size), *cells))
    return rows


def _cohort_builder(grid: CohortGrid):
    def build(slide: Slide, content: ReportContent) -> None:
        _cohort_slide(slide, grid)

    return build


def _cohort_slide(slide: Slide, grid: CohortGrid) -> None:
    heading(slide, COHORT_TITLE)
    offsets = grid.offsets[:MAX_OFFSETS]
    note = (
        f"Share of each {grid.period}'s new customers who bought again in each later {grid.period} "
        f"(0 is the first); darker is more. Blank: not over by as_of."
    )
    add_text(slide, Box(LEFT, BODY_TOP - 0.1, INNER, 0.4), [note], max_pt=13, min_pt=10, color=MUTED)
    top = BODY_TOP + 0.4
    cell_w = min((INNER - 2.6) / max(len(offsets), 1), 0.9)
    columns = [
        Column("Cohort", 1.3),
        Column("Customers", 1.3, PP_ALIGN.RIGHT),
        *(Column(str(o), cell_w, PP_ALIGN.CENTER) for o in offsets),
    ]
    rows = cohort_rows(grid)
    size = table_size(columns, rows, BODY_BOTTOM - top)
    add_table(slide, LEFT, top, columns, rows, size=size)
    table = [s for s in slide.shapes if isinstance(s, GraphicFrame) and s.has_table][-1].table
    first = max(len(grid.cohorts) - MAX_COHORTS, 0)
    for i, row in enumerate(grid.retention[first:], start=1):
        for j, value in enumerate(row[: len(offsets)]):
            cell = table.cell(i, j + 2)
            cell.fill.solid()
            if value is None:
                cell.fill.fore_color.rgb = WHITE
                continue
            cell.fill.fore_color.rgb = RGBColor.from_string(shade(value).lstrip("#"))
            # White on the dark shades, ink on the pale ones, so every figure stays readable.
            color = WHITE if value >= 0.55 else INK
            for run in cell.text_frame.paragraphs[0].runs:
                run.font.color.rgb = color


# -- the state diagram -----------------------------------------------------------------------

AREA = Box(LEFT, BODY_TOP, 7.4, BODY_BOTTOM - BODY_TOP)
OVAL_R = 0.72  # inches
OFFSET = 0.1  # inches either side of the centre line, so A→B and B→A stay apart


def _diagram_builder(diagram: StateDiagram):
    def build(slide: Slide, content: ReportContent) -> None:
        _diagram_slide(slide, diagram)

    return build


def _arrow(slide: Slide, start: tuple[float, float], end: tuple[float, float]) -> None:
    connector = slide.shapes.add_connector(
        MSO_CONNECTOR.STRAIGHT, Inches(start[0]), Inches(start[1]), Inches(end[0]), Inches(end[1])
    )
    connector.line.color.rgb = MUTED
    connector.line.width = Pt(1.5)
    line = connector.line._get_or_add_ln()
    line.append(line.makeelement(qn("a:tailEnd"), {"type": "triangle", "w": "med", "len": "med"}))


def _diagram_slide(slide: Slide, diagram: StateDiagram) -> None:
    heading(slide, DIAGRAM_TITLE)
    centres = [
        (AREA.x + x, AREA.y + y)
        for x, y in state_positions(len(diagram.names), AREA.w, AREA.h, OVAL_R + 0.15)
    ]
    for i, (x1, y1) in enumerate(centres):
        for j, (x2, y2) in enumerate(centres):
            chance = diagram.transitions[i][j]
            if i == j or chance < MIN_ARROW:
                continue
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            nx, ny = -uy * OFFSET, ux * OFFSET
            start = (x1 + ux * OVAL_R + nx, y1 + uy * OVAL_R + ny)
            end = (x2 - ux * (OVAL_R + 0.03) + nx, y2 - uy * (OVAL_R + 0.03) + ny)
            _arrow(slide, start, end)
            mx, my = (start[0] + end[0]) / 2 + nx * 2.6, (start[1] + end[1]) / 2 + ny * 2.6
            label = Box(mx - 0.4, my - 0.17, 0.8, 0.34)
            add_text(
                slide, label, [format_share(chance)], max_pt=12, min_pt=9, color=INK, align=PP_ALIGN.CENTER
            )
    for i, (name, (x, y)) in enumerate(zip(diagram.names, centres, strict=True)):
        oval = slide.shapes.add_shape(
            MSO_SHAPE.OVAL, Inches(x - OVAL_R), Inches(y - OVAL_R), Inches(2 * OVAL_R), Inches(2 * OVAL_R)
        )
        oval.name = f"State {name}"
        oval.fill.solid()
        oval.fill.fore_color.rgb = PANEL
        oval.line.color.rgb = ACCENT
        oval.line.width = Pt(2)
        style = oval._element.find(qn("p:style"))
        if style is not None:  # the theme style adds a shadow in LibreOffice
            oval._element.remove(style)
        inner = Box(x - OVAL_R * 0.8, y - 0.4, OVAL_R * 1.6, 0.42)
        add_text(slide, inner, [name], max_pt=15, min_pt=10, bold=True, color=NAVY, align=PP_ALIGN.CENTER)
        lines = [
            f"{format_count(diagram.customers_now[i])} now",
            f"stay {format_share(diagram.transitions[i][i])}",
        ]
        below = Box(x - OVAL_R * 0.8, y + 0.02, OVAL_R * 1.6, 0.5)
        add_text(
            slide,
            below,
            lines,
            max_pt=11,
            min_pt=9,
            color=MUTED,
            align=PP_ALIGN.CENTER,
            anchor=MSO_ANCHOR.TOP,
        )
    period = diagram.period
    reading = [
        f"Each circle is a lifecycle state: its customers now and the chance of staying next {period}.",
        f"Each arrow is the chance of moving to the state it points to next {period}; "
        "chances below 0.5% are left out.",
    ]
    stack_sections(
        slide, Box(RIGHT.x + 0.6, RIGHT.y, RIGHT.w - 0.6, RIGHT.h), [("Reading the diagram", reading)]
    )
