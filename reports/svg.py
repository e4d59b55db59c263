"""Vector charts for the PDF report, written as inline SVG (WeasyPrint draws them as paths).

Every data bar is a ``<rect class="bar">`` so tests and readers of the HTML can count them;
legend swatches use another class.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from .content import ReportContent, SegmentContent
from .formatting import format_signed_pct, shorten

FONT = "Liberation Sans, Arial, DejaVu Sans, sans-serif"
INK, MUTED, RULE, ZERO = "#333a48", "#6b7280", "#d9dde3", "#9aa1ad"
PALETTE = ("#4E79A7", "#F28E2B", "#59A14F", "#E15759", "#B07AA1", "#76B7B2", "#EDC948", "#9C755F")
WIDTH = 640


def segment_color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 11,
    anchor: str = "start",
    fill: str = INK,
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}"{weight}>{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, cls: str = "bar", title: str = "") -> str:
    tooltip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" '
        f'height="{max(h, 0.0):.1f}" fill="{fill}">{tooltip}</rect>'
    )


def _line(x1: float, x2: float, y1: float, y2: float, stroke: str, width: float) -> str:
    return (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" '
        f'stroke="{stroke}" stroke-width="{width}"/>'
    )


def _svg(height: float, body: Sequence[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT}" role="img" '
        f'aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def size_chart(content: ReportContent) -> str:
    """Horizontal bars of segment sizes, largest first, labelled with count and share."""
    label_w, value_w, row_h, bar_h = 190, 110, 30, 20
    top = 6
    largest = max((s.size for s in content.segments), default=0) or 1
    span = WIDTH - label_w - value_w
    body = []
    for index, segment in enumerate(content.segments):
        y = top + index * row_h
        width = span * segment.size / largest
        body.append(_text(label_w - 8, y + bar_h / 2 + 4, segment.short_name, anchor="end"))
        body.append(_rect(label_w, y, width, bar_h, segment_color(index), title=segment.name))
        value = f"{segment.size_text} · {segment.share_text}"
        body.append(_text(label_w + width + 6, y + bar_h / 2 + 4, value, fill=MUTED))
    height = top + len(content.segments) * row_h + 4
    return _svg(height, body, "Segment sizes")


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _axis_range(values: Sequence[float]) -> tuple[float, float, float]:
    """A rounded [low, high] that contains 0 and every value, with its tick step."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if high - low < 1e-9:
        high = 10.0
    step = _nice_step(high - low)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _wrap(label: str, width_chars: int) -> list[str]:
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return [shorten(line, width_chars) for line in lines[:2]] or [""]


def comparison_chart(content: ReportContent) -> str:
    """Clustered columns: per feature, each segment's % difference from the average."""
    left, right, top, plot_h = 52, 8, 10, 230
    values = [f.difference * 100 for s in content.segments for f in s.figures if f.difference is not None]
    low, high, step = _axis_range(values)
    scale = plot_h / (high - low)

    def y_of(value: float) -> float:
        return top + (high - value) * scale

    body = []
    tick = low
    while tick <= high + step / 2:
        y = y_of(tick)
        body.append(_line(left, WIDTH - right, y, y, RULE, 0.6))
        body.append(_text(left - 6, y + 3.5, format_signed_pct(tick / 100), size=9, anchor="end", fill=MUTED))
        tick += step
    groups = max(len(content.features), 1)
    group_w = (WIDTH - left - right) / groups
    bar_w = group_w * 0.8 / max(len(content.segments), 1)
    for g, label in enumerate(content.feature_labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, segment in enumerate(content.segments):
            figure = segment.figures[g]
            if figure.difference is None:
                continue
            value = figure.difference * 100
            y1, y2 = sorted((y_of(0), y_of(value)))
            title = f"{segment.name}: {figure.label} {figure.difference_text}"
            body.append(_rect(x0 + s * bar_w, y1, bar_w * 0.9, y2 - y1, segment_color(s), title=title))
        for i, line in enumerate(_wrap(label, int(group_w / 5.5))):
            body.append(
                _text(left + (g + 0.5) * group_w, top + plot_h + 16 + 12 * i, line, size=10, anchor="middle")
            )
    body.append(_line(left, WIDTH - right, y_of(0), y_of(0), ZERO, 1.0))
    legend_y = top + plot_h + 50
    body += _legend(content.segments, legend_y)
    rows = math.ceil(len(content.segments) / 3)
    return _svg(legend_y + rows * 18 + 4, body, "Segments compared with the average")


def _legend(segments: Sequence[SegmentContent], y: float) -> list[str]:
    body = []
    column_w = WIDTH / 3
    for index, segment in enumerate(segments):
        x = (index % 3) * column_w + 8
        row_y = y + (index // 3) * 18
        body.append(_rect(x, row_y, 10, 10, segment_color(index), cls="swatch"))
        body.append(_text(x + 15, row_y + 9, shorten(segment.name, 34), size=10))
    return body


def segment_chart(segment: SegmentContent, color: str) -> str:
    """Diverging bars for one segment: each feature's % difference from the average."""
    label_w, value_w, row_h, bar_h, top = 170, 60, 24, 15, 4
    figures = segment.figures
    values = [f.difference * 100 for f in figures if f.difference is not None]
    limit = max([abs(v) for v in values] + [10.0])
    half = (WIDTH - label_w - 2 * value_w) / 2
    zero = label_w + value_w + half
    body = []
    for i, figure in enumerate(figures):
        y = top + i * row_h
        body.append(_text(label_w - 8, y + bar_h / 2 + 4, shorten(figure.label, 28), anchor="end"))
        if figure.difference is None:
            body.append(
                _text(zero + 6, y + bar_h / 2 + 4, f"{figure.difference_text} (average is 0)", fill=MUTED)
            )
            continue
        width = half * abs(figure.difference * 100) / limit
        x = zero if figure.difference >= 0 else zero - width
        body.append(_rect(x, y, width, bar_h, color, title=f"{figure.label} {figure.difference_text}"))
        label_x, anchor = (x + width + 5, "start") if figure.difference >= 0 else (x - 5, "end")
        body.append(
            _text(label_x, y + bar_h / 2 + 4, figure.difference_text, size=10, anchor=anchor, fill=MUTED)
        )
    height = top + len(figures) * row_h
    body.append(_line(zero, zero, 0, height, ZERO, 1.0))
    return _svg(height + 4, body, f"{segment.name} compared with the average")
