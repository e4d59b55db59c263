"""The lifecycle states as an inline SVG diagram, drawn on the server.

One circle per state (its name, its customers now and the share that stays), one curved arrow
per transition of at least :data:`MIN_ARROW` labelled with its probability. Drawn here rather
than in the browser so the figure is in the page as stored, readable without scripts and by
the tests; every label is escaped, as a state name is text from the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports.formatting import format_count

from .findings import percent

# Smaller transitions would crowd the diagram; the matrix beside it shows them all.
MIN_ARROW = 0.05
WIDTH, HEIGHT = 520, 360
NODE_RADIUS = 46
LAYOUT_RADIUS = 120
# How far the arrows bow from the straight line, so i→j and j→i do not overlap.
BOW = 0.22
LABEL_GAP = 12

Point = tuple[float, float]


def _positions(count: int) -> list[Point]:
    cx, cy = WIDTH / 2, HEIGHT / 2
    # two states side by side read better than one above the other
    angles = [math.pi, 0.0] if count == 2 else [-math.pi / 2 + 2 * math.pi * i / count for i in range(count)]
    return [(cx + LAYOUT_RADIUS * math.cos(a), cy + LAYOUT_RADIUS * math.sin(a)) for a in angles]


def _towards(origin: Point, target: Point, distance: float) -> Point:
    dx, dy = target[0] - origin[0], target[1] - origin[1]
    length = math.hypot(dx, dy) or 1.0
    return origin[0] + dx / length * distance, origin[1] + dy / length * distance


def _arrow(start: Point, end: Point, probability: float, names: tuple[str, str]) -> str:
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy) or 1.0
    # the control point sits to the right of the direction of travel
    control = (
        (start[0] + end[0]) / 2 - dy / length * BOW * length,
        (start[1] + end[1]) / 2 + dx / length * BOW * length,
    )
    p0 = _towards(start, control, NODE_RADIUS)
    p2 = _towards(end, control, NODE_RADIUS + 4)  # room for the arrowhead
    # the label sits just outside the curve's middle, on the side it bows to
    label = (
        0.25 * p0[0] + 0.5 * control[0] + 0.25 * p2[0] - dy / length * LABEL_GAP,
        0.25 * p0[1] + 0.5 * control[1] + 0.25 * p2[1] + dx / length * LABEL_GAP,
    )
    text = percent(probability)
    return (
        f'<g class="transition" data-from="{escape(names[0])}" data-to="{escape(names[1])}">'
        f'<path d="M{p0[0]:.1f},{p0[1]:.1f} Q{control[0]:.1f},{control[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}" '
        'fill="none" stroke="#64748b" stroke-width="1.5" marker-end="url(#lifecycle-arrow)"/>'
        f'<text x="{label[0]:.1f}" y="{label[1]:.1f}" text-anchor="middle" dominant-baseline="middle" '
        f'font-size="12" fill="#334155">{text}</text></g>'
    )


def _node(centre: Point, name: str, customers: int | None, stays: float | None) -> str:
    x, y = centre
    now = f"{format_count(customers)} now" if customers is not None else ""
    return (
        f'<g class="state" data-state="{escape(name)}">'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}" fill="#eff6ff" stroke="#1d4ed8" stroke-width="2"/>'
        f'<text x="{x:.1f}" y="{y - 14:.1f}" text-anchor="middle" font-weight="600" font-size="14">{escape(name)}</text>'
        f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="12" class="customers-now">{now}</text>'
        f'<text x="{x:.1f}" y="{y + 20:.1f}" text-anchor="middle" font-size="12" class="stays">'
        f"{'stays ' + percent(stays) if stays is not None else ''}</text></g>"
    )


def state_diagram(
    names: Sequence[str], matrix: Sequence[Sequence[float | None]], customers_now: Sequence[int | None]
) -> SafeString:
    """The diagram of ``names`` (in the stored order) with the transition ``matrix`` (row: from,
    column: to); a missing probability draws no arrow and no "stays"."""
    centres = _positions(len(names))
    arrows = []
    for i, row in enumerate(matrix):
        for j, probability in enumerate(row):
            if i != j and probability is not None and probability >= MIN_ARROW:
                arrows.append(_arrow(centres[i], centres[j], probability, (names[i], names[j])))
    nodes = [
        _node(centres[i], name, customers_now[i], matrix[i][i] if i < len(matrix) else None)
        for i, name in enumerate(names)
    ]
    title = "Lifecycle states and the chance of moving between them each period"
    # every text above is escaped or a formatted number
    return mark_safe(
        f'<svg class="state-diagram" id="lifecycle-diagram" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{title}</title>"
        '<defs><marker id="lifecycle-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>'
        + "".join(arrows)
        + "".join(nodes)
        + "</svg>"
    )
