"""Drawing primitives for the executive deck: text that fits its box, tables, tiles, charts.

Every size is chosen here with :mod:`reports.textfit`, so slide code only says what goes
where. Imports python-pptx, so only the deck imports this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Inches, Pt

from .formatting import ELLIPSIS
from .textfit import LINE_SPACING, fit_size, wrapped_lines

FONT = "Arial"
NAVY = RGBColor(0x1F, 0x2A, 0x44)
INK = RGBColor(0x33, 0x3A, 0x48)
MUTED = RGBColor(0x6B, 0x72, 0x80)
RULE = RGBColor(0xD9, 0xDD, 0xE3)
PANEL = RGBColor(0xF3, 0xF5, 0xF8)
ACCENT = RGBColor(0x0F, 0x76, 0x6E)
HIGHLIGHT = RGBColor(0xD5, 0xF0, 0xEC)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
# Tableau 10: distinct hues that stay apart for the common colour-vision deficiencies.
PALETTE = ("4E79A7", "F28E2B", "59A14F", "E15759", "B07AA1", "76B7B2", "EDC948", "9C755F")

H_MARGIN = 0.06  # inches, left/right inset of every text frame
V_MARGIN = 0.04  # inches, top/bottom inset
BULLET_INDENT = 0.22  # inches
SPACE_AFTER = 0.35  # ems between bullets


def segment_color(index: int) -> RGBColor:
    return RGBColor.from_string(PALETTE[index % len(PALETTE)])


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in inches."""

    x: float
    y: float
    w: float
    h: float

    def text_width_pt(self, indent: float = 0.0) -> float:
        return (self.w - 2 * H_MARGIN - indent) * 72

    def text_height_pt(self) -> float:
        return (self.h - 2 * V_MARGIN) * 72


def add_text(
    slide: Slide,
    box: Box,
    paragraphs: Sequence[str],
    *,
    max_pt: int,
    min_pt: int,
    bold: bool = False,
    color: RGBColor = INK,
    bullets: bool = False,
    align: PP_ALIGN = PP_ALIGN.LEFT,
    anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
) -> int:
    """Place paragraphs at the largest size that fits; drop trailing ones if none does."""
    shape = slide.shapes.add_textbox(Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h))
    return fill_frame(
        shape.text_frame,
        box,
        paragraphs,
        max_pt=max_pt,
        min_pt=min_pt,
        bold=bold,
        color=color,
        bullets=bullets,
        align=align,
        anchor=anchor,
    )


def fill_frame(
    frame,
    box: Box,
    paragraphs: Sequence[str],
    *,
    max_pt: int,
    min_pt: int,
    bold: bool = False,
    color: RGBColor = INK,
    bullets: bool = False,
    align: PP_ALIGN = PP_ALIGN.LEFT,
    anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
) -> int:
    """Fill an existing text frame (a textbox or a title placeholder) as add_text does."""
    paragraphs, size = _fitting(list(paragraphs), box, max_pt, min_pt, bold, bullets)
    frame.clear()
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = Inches(H_MARGIN)
    frame.margin_top = frame.margin_bottom = Inches(V_MARGIN)
    for index, text in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = align
        # Single spacing renders at about 1.15 em in Arial; textfit budgets 1.2 em per line.
        paragraph.line_spacing = 1.0
        if bullets:
            _bullet(paragraph, size)
        _run(paragraph, text, size, bold=bold, color=color)
    return size


def _fitting(
    paragraphs: list[str], box: Box, max_pt: int, min_pt: int, bold: bool, bullets: bool
) -> tuple[list[str], int]:
    indent = BULLET_INDENT if bullets else 0.0
    gap = SPACE_AFTER if bullets else 0.0
    width, height = box.text_width_pt(indent), box.text_height_pt()
    while True:
        size = fit_size(paragraphs, width, height, max_pt=max_pt, min_pt=min_pt, bold=bold, space_after=gap)
        if size is not None:
            return paragraphs, size
        if len(paragraphs) > 1:
            paragraphs = paragraphs[:-1]
        elif len(paragraphs[0]) > 4:
            paragraphs = [paragraphs[0][: int(len(paragraphs[0]) * 0.9)].rstrip() + ELLIPSIS]
        else:
            return paragraphs, min_pt


def _run(paragraph, text: str, size: int, *, bold: bool, color: RGBColor) -> None:
    run = paragraph.add_run()
    run.text = text
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color


def _bullet(paragraph, size: int) -> None:
    paragraph.space_after = Pt(size * SPACE_AFTER)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.set("marL", str(Inches(BULLET_INDENT)))
    ppr.set("indent", str(-Inches(BULLET_INDENT)))
    color = ppr.makeelement(qn("a:buClr"), {})
    color.append(ppr.makeelement(qn("a:srgbClr"), {"val": str(ACCENT)}))
    ppr.append(color)
    ppr.append(ppr.makeelement(qn("a:buFont"), {"typeface": FONT}))
    ppr.append(ppr.makeelement(qn("a:buChar"), {"char": "\u2022"}))


def add_rect(slide: Slide, box: Box, fill: RGBColor, *, rounded: bool = False):
    kind = MSO_SHAPE.ROUNDED_RECTANGLE if rounded else MSO_SHAPE.RECTANGLE
    shape = slide.shapes.add_shape(kind, Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h))
    shape.fill.solid()
    shape.fill.fore_color.rgb = fill
    shape.line.fill.background()
    # The theme style reference adds a drop shadow in LibreOffice even with an empty effect list.
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)
    if rounded:
        shape.adjustments[0] = 0.08
    return shape


def add_tile(slide: Slide, box: Box, label: str, value: str, note: str) -> None:
    """A key-number tile: small label, big value, one-line note."""
    add_rect(slide, box, PANEL, rounded=True)
    add_rect(slide, Box(box.x, box.y + 0.2, 0.06, box.h - 0.4), ACCENT)
    inner = Box(box.x + 0.2, box.y + 0.12, box.w - 0.3, box.h - 0.24)
    add_text(
        slide,
        Box(inner.x, inner.y, inner.w, 0.32),
        [label.upper()],
        max_pt=11,
        min_pt=9,
        bold=True,
        color=MUTED,
    )
    add_text(
        slide,
        Box(inner.x, inner.y + 0.32, inner.w, 0.62),
        [value],
        max_pt=32,
        min_pt=14,
        bold=True,
        color=NAVY,
    )
    add_text(
        slide, Box(inner.x, inner.y + 0.94, inner.w, inner.h - 0.94), [note], max_pt=12, min_pt=9, color=INK
    )


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # inches
    align: PP_ALIGN = PP_ALIGN.LEFT


def table_row_heights(columns: Sequence[Column], rows: Sequence[Sequence[str]], size: int) -> list[float]:
    """Height in inches each row needs so no cell text wraps past its row."""
    heights = []
    for row in rows:
        lines = max(
            wrapped_lines(cell, (col.width - 2 * H_MARGIN) * 72, size, bold=True)
            for col, cell in zip(columns, row, strict=True)
        )
        heights.append(lines * size * LINE_SPACING / 72 + 2 * V_MARGIN + 0.1)
    return heights


def add_table(
    slide: Slide,
    x: float,
    y: float,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    size: int,
    highlight: int | None = None,
    emphasis: Sequence[tuple[int, int]] = (),
) -> float:
    """A plain, striped table whose rows are as tall as their text; returns its height."""
    all_rows = [[c.header for c in columns], *[list(r) for r in rows]]
    heights = table_row_heights(columns, all_rows, size)
    shape = slide.shapes.add_table(
        len(all_rows),
        len(columns),
        Inches(x),
        Inches(y),
        Inches(sum(c.width for c in columns)),
        Inches(sum(heights)),
    )
    table = shape.table
    table.first_row, table.horz_banding = True, False
    for j, column in enumerate(columns):
        table.columns[j].width = Inches(column.width)
    for i, (height, values) in enumerate(zip(heights, all_rows, strict=True)):
        table.rows[i].height = Inches(height)
        fill = NAVY if i == 0 else HIGHLIGHT if highlight == i - 1 else PANEL if i % 2 == 0 else WHITE
        for j, (column, text) in enumerate(zip(columns, values, strict=True)):
            bold = i == 0 or highlight == i - 1 or (i - 1, j) in emphasis
            _cell(table.cell(i, j), text, size, fill, column.align, bold, WHITE if i == 0 else INK)
    return sum(heights)


def _cell(cell, text: str, size: int, fill: RGBColor, align: PP_ALIGN, bold: bool, color: RGBColor) -> None:
    cell.fill.solid()
    cell.fill.fore_color.rgb = fill
    cell.margin_left = cell.margin_right = Inches(H_MARGIN)
    cell.margin_top = cell.margin_bottom = Inches(V_MARGIN)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    frame = cell.text_frame
    frame.word_wrap = True
    paragraph = frame.paragraphs[0]
    paragraph.alignment = align
    _run(paragraph, text, size, bold=bold, color=color)


def _style_chart(chart, *, legend: bool) -> None:
    chart.has_title = False
    chart.font.name = FONT
    chart.font.size = Pt(12)
    chart.font.color.rgb = INK
    chart.has_legend = legend
    if legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(12)
    value_axis = chart.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = RULE
    value_axis.format.line.fill.background()
    value_axis.tick_labels.font.color.rgb = MUTED
    chart.category_axis.format.line.color.rgb = RULE
    chart.category_axis.tick_labels.font.color.rgb = INK


def add_size_chart(slide: Slide, box: Box, names: Sequence[str], sizes: Sequence[int]) -> None:
    """Horizontal bars of segment sizes, largest (segment 0) on top, one colour per segment."""
    data = CategoryChartData()
    data.categories = list(names)
    data.add_series("Customers", list(sizes), number_format="#,##0")
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h), data
    )
    chart = frame.chart
    _style_chart(chart, legend=False)
    chart.category_axis.reverse_order = True
    # Data labels carry the numbers, so the value axis and its gridlines would only add noise.
    chart.value_axis.visible = False
    chart.value_axis.has_major_gridlines = False
    plot = chart.plots[0]
    plot.gap_width = 45
    plot.vary_by_categories = True
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format, labels.number_format_is_linked = "#,##0", False
    labels.font.size = Pt(12)
    labels.font.color.rgb = INK
    for index, point in enumerate(plot.series[0].points):
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = segment_color(index)


def add_difference_chart(
    slide: Slide,
    box: Box,
    features: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
) -> None:
    """Clustered columns per feature: each segment's difference from the average, in %."""
    data = CategoryChartData()
    data.categories = list(features)
    for name, values in series:
        data.add_series(name, list(values), number_format='+0"%";-0"%";0"%"')
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h), data
    )
    chart = frame.chart
    _style_chart(chart, legend=True)
    chart.value_axis.tick_labels.number_format = '+0"%";-0"%";0"%"'
    chart.value_axis.tick_labels.number_format_is_linked = False
    # Labels sit at the bottom even when bars go below zero, so they never cover a bar.
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    plot = chart.plots[0]
    plot.gap_width, plot.overlap = 60, -5
    for index, plotted in enumerate(plot.series):
        plotted.format.fill.solid()
        plotted.format.fill.fore_color.rgb = segment_color(index)
        plotted.invert_if_negative = False
