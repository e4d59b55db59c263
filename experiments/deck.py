"""``experiment.pptx``: an experiment's design and analysis as slides in the executive deck's style.

Slides: title, design (arms, α, power, customers per segment and arm, the segments too small to
read on their own), one slide per metric with a forest-like chart (a native bar chart of the
estimates with the 95% intervals as error bars, editable in PowerPoint) and its effects table, and
the checks (sample-ratio mismatch per segment, heterogeneity across segments). When the design was
not registered, or the analysis reads a metric or covariate it did not register, every slide
carries an "Exploratory" mark. Numbers are written as the PDF writes them (three significant
figures), so the deck, experiment.pdf and the portal agree.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_TICK_LABEL_POSITION
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Inches, Pt

from reports.deck_parts import (
    ACCENT,
    INK,
    MUTED,
    NAVY,
    PALETTE,
    RULE,
    WHITE,
    Box,
    add_rect,
    add_table,
    add_text,
    fill_frame,
)
from reports.deck_sections import (
    BODY_BOTTOM,
    BODY_TOP,
    HEIGHT,
    INNER,
    LEFT,
    WIDTH,
    fitted_columns,
    heading,
    rows_or_note,
    stack_sections,
    table_size,
)

from .document import analysis_standing

TITLE_ONLY_LAYOUT = 5
FOOTER_Y = 7.0
MAIN_METHODS = ("welch_t", "two_proportion_z", "cuped_welch_t", "post_stratified")
EXPLORATORY_FILL = RGBColor(0xB4, 0x53, 0x09)
OVERALL = RGBColor.from_string(PALETTE[0])
CHART_W = 5.0


def number(value: Any, digits: int = 3) -> str:
    """A figure as experiment.pdf writes it: three significant figures, a dash when absent."""
    return "—" if value is None else f"{float(value):.{digits}g}"


def segment_label(segment: Any) -> str:
    return "All customers" if str(segment) == "all" else f"Segment {segment}"


def experiment_deck(
    *,
    version: Any,
    design: dict[str, Any],
    analysis: dict[str, Any],
    registered: bool,
    exploratory: bool | None = None,
) -> bytes:
    """The deck's bytes. ``registered``: the design was registered; ``exploratory`` (by default,
    whether any effect is) marks every slide as well when the analysis departs from it."""
    effects = list(analysis.get("effects") or [])
    marked = (not registered) or (
        any(r.get("exploratory") for r in effects) if exploratory is None else exploratory
    )
    metrics = list(dict.fromkeys(str(r["metric"]) for r in effects))
    slides: list[Any] = [
        lambda s: _title_slide(s, version, design, registered, marked),
        lambda s: _design_slide(s, design),
    ]
    slides += [
        _metric_builder(metric, [r for r in effects if str(r["metric"]) == metric]) for metric in metrics
    ]
    slides.append(lambda s: _checks_slide(s, analysis))
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(WIDTH), Inches(HEIGHT)
    footer = f"{version.label} · {version.project.client.name}"
    for index, build in enumerate(slides, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
        build(slide)
        if marked:
            _exploratory_mark(slide)
        _footer(slide, f"{footer} · {index} / {len(slides)}", dark=index == 1)
        # The speaker notes say on every slide how far its figures can be trusted.
        slide.notes_slide.notes_text_frame.text = analysis_standing(registered, marked)
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


# -- frame -----------------------------------------------------------------------------------


def _footer(slide: Slide, text: str, *, dark: bool) -> None:
    if not dark:
        add_rect(slide, Box(LEFT, FOOTER_Y - 0.08, INNER, 0.01), RULE)
    add_text(
        slide,
        Box(LEFT, FOOTER_Y, INNER, 0.4),
        [text],
        max_pt=10,
        min_pt=7,
        color=RULE if dark else MUTED,
        align=PP_ALIGN.RIGHT,
    )


def _exploratory_mark(slide: Slide) -> None:
    """A tag in the top right corner: these results are exploratory, not confirmatory."""
    box = Box(LEFT + INNER - 1.9, 0.12, 1.9, 0.34)
    add_rect(slide, box, EXPLORATORY_FILL, rounded=True)
    add_text(
        slide,
        box,
        ["Exploratory"],
        max_pt=12,
        min_pt=9,
        bold=True,
        color=WHITE,
        align=PP_ALIGN.CENTER,
        anchor=MSO_ANCHOR.MIDDLE,
    )


# -- slides ----------------------------------------------------------------------------------


def _title_slide(slide: Slide, version: Any, design: dict[str, Any], registered: bool, marked: bool) -> None:
    slide.background.fill.solid()
    slide.background.fill.fore_color.rgb = NAVY
    box = Box(LEFT, 2.2, INNER, 1.8)
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = (Inches(v) for v in (box.x, box.y, box.w, box.h))
    name = design.get("experiment")
    text = f"{name}: experiment on {version.label}" if name else f"Experiment on {version.label}"
    fill_frame(
        title.text_frame, box, [text], max_pt=40, min_pt=24, bold=True, color=WHITE, anchor=MSO_ANCHOR.BOTTOM
    )
    add_rect(slide, Box(LEFT + 0.06, 4.1, 1.2, 0.08), ACCENT)
    add_text(
        slide,
        Box(LEFT, 4.3, INNER, 0.55),
        [f"Prepared for {version.project.client.name} · {version.project.name}"],
        max_pt=22,
        min_pt=14,
        color=WHITE,
    )
    details = [analysis_standing(registered, marked), f"Version hash: {version.version_hash}"]
    add_text(slide, Box(LEFT, 4.95, INNER, 1.3), details, max_pt=16, min_pt=11, color=RULE)


def _design_slide(slide: Slide, design: dict[str, Any]) -> None:
    heading(slide, "Design")
    arm_names = [str(a["name"]) for a in design.get("arms") or []]
    too_small = {str(s) for s in design.get("segments_too_small") or []}
    headers = ["Segment", "Customers", *arm_names, "Readable alone"]
    rows = [
        (
            segment_label(c["segment"]),
            f"{int(c['customers']):,}",
            *(f"{int(c['arms'].get(a, 0)):,}" for a in arm_names),
            "too small" if str(c["segment"]) in too_small else "yes",
        )
        for c in design.get("counts") or []
    ]
    numeric = tuple(range(1, 2 + len(arm_names)))
    columns = fitted_columns(headers, rows, 6.6, numeric, fill=False)
    size = min(table_size(columns, rows, BODY_BOTTOM - BODY_TOP), 14)
    add_table(slide, LEFT, BODY_TOP, columns, rows_or_note(columns, rows, size, what="segments"), size=size)
    arms = ", ".join(f"{a['name']} ({a['ratio']})" for a in design.get("arms") or [])
    primary = design.get("primary") or {}
    plan = [
        f"Arms {arms}; α {design.get('alpha')}, power {design.get('power')}, seed {design.get('seed')}.",
        f"Primary metric: {primary['name']} ({primary.get('kind')})"
        if primary
        else "No primary metric registered.",
    ]
    guardrails = [str(g.get("name")) for g in design.get("guardrails") or []]
    if guardrails:
        plan.append(f"Guardrails: {', '.join(guardrails)}.")
    if (design.get("cuped") or {}).get("rho") is not None:
        plan.append(f"CUPED on the pre-period covariate, ρ {design['cuped']['rho']}.")
    readable = (
        [
            "Too small to read on their own (below the power asked): "
            + ", ".join(segment_label(s) for s in sorted(too_small))
            + "; read them in the overall effect."
        ]
        if too_small
        else ["Every segment reaches the power asked on its own."]
    )
    right = Box(LEFT + 7.0, BODY_TOP, INNER - 7.0, BODY_BOTTOM - BODY_TOP)
    stack_sections(slide, right, [("Plan", plan), ("Segments", readable)])


def _metric_builder(metric: str, rows: list[dict[str, Any]]):
    def build(slide: Slide) -> None:
        _metric_slide(slide, metric, rows)

    return build


def effect_rows(rows: Sequence[dict[str, Any]], *, with_arm: bool = True) -> list[tuple[str, ...]]:
    """The effects table's rows as the deck writes them (the arm only when there are several)."""
    return [
        (
            segment_label(r["segment"]),
            *((str(r["arm"]),) if with_arm else ()),
            str(r["method"]).replace("_", " "),
            number(r.get("estimate")),
            f"{number(r.get('ci_low'))} to {number(r.get('ci_high'))}",
            number(r.get("p_value")),
            number(r.get("p_adjusted")),
        )
        for r in rows
    ]


def _metric_slide(slide: Slide, metric: str, rows: list[dict[str, Any]]) -> None:
    exploratory = any(r.get("exploratory") for r in rows)
    heading(slide, f"{metric}: effect by segment{' (exploratory)' if exploratory else ''}")
    note = "Difference from the control in each segment, with its 95% interval; the overall row weights the segments."
    add_text(slide, Box(LEFT, BODY_TOP - 0.1, INNER, 0.4), [note], max_pt=13, min_pt=10, color=MUTED)
    top = BODY_TOP + 0.4
    several = len({str(r["arm"]) for r in rows}) > 1
    main = [r for r in rows if str(r["method"]) in MAIN_METHODS and r.get("estimate") is not None]
    if main:
        add_forest_chart(slide, Box(LEFT, top, CHART_W, BODY_BOTTOM - top), main, with_arm=several)
    else:
        add_text(slide, Box(LEFT, top, CHART_W, 0.5), ["No effect was estimated."], max_pt=14, min_pt=11)
    headers = ["Segment", *(["Arm"] if several else []), "Method", "Estimate", "95% interval", "p", "p adj."]
    table = effect_rows(rows, with_arm=several)
    first_number = 3 if several else 2
    width = INNER - CHART_W - 0.3
    columns = fitted_columns(headers, table, width, tuple(range(first_number, len(headers))))
    size = min(table_size(columns, table, BODY_BOTTOM - top), 12)
    x = LEFT + CHART_W + 0.3
    add_table(
        slide,
        x,
        top,
        columns,
        rows_or_note(columns, table, size, BODY_BOTTOM - top, what="effects"),
        size=size,
    )


def nice_scale(low: float, high: float, ticks: int = 6) -> tuple[float, float, float]:
    """An axis from ``low`` to ``high`` widened to round ticks (1, 2 or 5 times a power of ten)."""
    if high <= low:
        high = low + 1.0
    span = high - low
    magnitude = 10 ** math.floor(math.log10(span / ticks))
    step = next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= ticks)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def add_forest_chart(
    slide: Slide, box: Box, rows: Sequence[dict[str, Any]], *, with_arm: bool = True
) -> None:
    """Horizontal bars of the estimates through zero, the intervals drawn as error bars."""
    data = CategoryChartData()
    data.categories = [
        f"{segment_label(r['segment'])} · {r['arm']}" if with_arm else segment_label(r["segment"])
        for r in rows
    ]
    estimates = [float(r["estimate"]) for r in rows]
    data.add_series("Estimate", estimates, number_format="0.00")
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, Inches(box.x), Inches(box.y), Inches(box.w), Inches(box.h), data
    )
    chart = frame.chart
    chart.has_title = False
    chart.has_legend = False
    chart.font.name = "Arial"
    chart.font.size = Pt(11)
    chart.font.color.rgb = INK
    chart.category_axis.reverse_order = True
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    chart.category_axis.format.line.color.rgb = MUTED
    value_axis = chart.value_axis
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = RULE
    value_axis.tick_labels.font.color.rgb = MUTED
    # Reversed, the categories would put the value axis on top: it crosses at the last one instead.
    value_axis._element.find(qn("c:crosses")).set("val", "max")
    # The scale spans the intervals, not only the bars, and always shows zero.
    low = min(0.0, *(float(r["ci_low"]) for r in rows if r.get("ci_low") is not None))
    high = max(0.0, *(float(r["ci_high"]) for r in rows if r.get("ci_high") is not None))
    low, high, step = nice_scale(low, high)
    value_axis.minimum_scale, value_axis.maximum_scale, value_axis.major_unit = low, high, step
    value_axis.tick_labels.number_format, value_axis.tick_labels.number_format_is_linked = "General", False
    plot = chart.plots[0]
    plot.gap_width = 120
    series = plot.series[0]
    series.invert_if_negative = False
    for point, r in zip(series.points, rows, strict=True):
        point.format.fill.solid()
        # The overall row in a lighter blue than the title's, so its interval's line stays visible.
        point.format.fill.fore_color.rgb = OVERALL if str(r["segment"]) == "all" else ACCENT
    plus = [
        max(float(r["ci_high"]) - e, 0.0) if r.get("ci_high") is not None else 0.0
        for r, e in zip(rows, estimates, strict=True)
    ]
    minus = [
        max(e - float(r["ci_low"]), 0.0) if r.get("ci_low") is not None else 0.0
        for r, e in zip(rows, estimates, strict=True)
    ]
    _error_bars(series._element, plus, minus)


def _error_bars(ser: Any, plus: Sequence[float], minus: Sequence[float]) -> None:
    """Custom error bars (c:errBars) on a bar series: the interval either side of the estimate."""
    bars = etree.SubElement(ser, qn("c:errBars"))
    etree.SubElement(bars, qn("c:errBarType"), val="both")
    etree.SubElement(bars, qn("c:errValType"), val="cust")
    etree.SubElement(bars, qn("c:noEndCap"), val="0")
    for tag, values in (("c:plus", plus), ("c:minus", minus)):
        literal = etree.SubElement(etree.SubElement(bars, qn(tag)), qn("c:numLit"))
        etree.SubElement(literal, qn("c:formatCode")).text = "General"
        etree.SubElement(literal, qn("c:ptCount"), val=str(len(values)))
        for index, value in enumerate(values):
            point = etree.SubElement(literal, qn("c:pt"), idx=str(index))
            etree.SubElement(point, qn("c:v")).text = repr(float(value))
    line = etree.SubElement(etree.SubElement(bars, qn("c:spPr")), qn("a:ln"), w="19050")
    fill = etree.SubElement(line, qn("a:solidFill"))
    etree.SubElement(fill, qn("a:srgbClr"), val=str(INK))
    # The schema orders a series' children: error bars come before the categories.
    ser.remove(bars)
    ser.find(qn("c:cat")).addprevious(bars)


def _checks_slide(slide: Slide, analysis: dict[str, Any]) -> None:
    heading(slide, "Checks: sample ratio and heterogeneity")
    headers = ["Segment", "Arm", "Expected share", "Observed", "Expected", "p", "Mismatch"]
    rows = [
        (
            segment_label(r["segment"]),
            str(r["arm"]),
            f"{float(r['expected_share']):.1%}",
            f"{int(r['observed']):,}",
            number(r["expected"], 5),
            number(r["p_value"]),
            "yes (p < 0.001)" if r.get("flagged") else "no",
        )
        for r in analysis.get("srm") or []
    ]
    columns = fitted_columns(headers, rows, 7.2, (2, 3, 4, 5))
    size = min(table_size(columns, rows, BODY_BOTTOM - BODY_TOP), 12)
    add_table(slide, LEFT, BODY_TOP, columns, rows_or_note(columns, rows, size, what="rows"), size=size)
    flagged = analysis.get("srm_flagged") or []
    srm = (
        [
            f"Sample-ratio mismatch in {', '.join(segment_label(s) for s in flagged)}: check the assignment there before reading its effects."
        ]
        if flagged
        else ["No segment's arms differ from the designed ratio (χ², flagged below p = 0.001)."]
    )
    heterogeneity = [
        f"{metric}: Cochran's Q {number(h.get('q'))} on {h.get('df')} df, p {number(h.get('p_value'))}, I² {number(h.get('i2'))}."
        for metric, h in (analysis.get("heterogeneity") or {}).items()
    ] or ["Not measured with fewer than two segments."]
    right = Box(LEFT + 7.6, BODY_TOP, INNER - 7.6, BODY_BOTTOM - BODY_TOP)
    stack_sections(slide, right, [("Sample ratio", srm), ("Do segments differ?", heterogeneity)])
