"""The Lifecycle chapter's figures for the PDF, as inline SVG: the cohort retention heatmap and
the lifecycle state diagram.

Every observed cohort-period is one ``<rect class="cell">`` and every state one
``<circle class="state">``, so tests and readers of the HTML can count them. A period that had
not ended by as_of draws nothing: an empty corner is "not yet seen", not "nobody came back".
"""

from __future__ import annotations

import math
from html import escape

from .formatting import format_count, format_share
from .lifecycle_sections import CohortGrid, StateDiagram
from .svg import INK, MUTED, WIDTH, _rect, _svg, _text

# Retention shades from a pale to a deep teal: darker is more customers still buying.
LOW, HIGH = (0xE6, 0xF4, 0xF1), (0x0F, 0x76, 0x6E)
# Below this share an arrow would be a line labelled "0%": left out, and the caption says so.
MIN_ARROW = 0.005


def shade(value: float) -> str:
    """The heatmap colour of a retention share (0 to 1)."""
    t = min(max(value, 0.0), 1.0)
    return "#" + "".join(f"{round(lo + (hi - lo) * t):02X}" for lo, hi in zip(LOW, HIGH, strict=True))


def cohort_heatmap(grid: CohortGrid) -> str:
    """Cohorts down, periods since the first purchase across; each cell the retention share."""
    label_w, top, row_h = 150, 22, 22
    columns = max(len(grid.offsets), 1)
    cell_w = (WIDTH - label_w - 4) / columns
    body = [_text(label_w - 8, 14, f"Cohort ({grid.period}) · customers", size=9, anchor="end", fill=MUTED)]
    for j, offset in enumerate(grid.offsets):
        body.append(_text(label_w + (j + 0.5) * cell_w, 14, str(offset), size=9, anchor="middle", fill=MUTED))
    for i, (cohort, row) in enumerate(zip(grid.cohorts, grid.retention, strict=True)):
        y = top + i * row_h
        size = grid.customers[i] if i < len(grid.customers) else 0
        body.append(
            _text(label_w - 8, y + row_h / 2 + 4, f"{cohort} · {format_count(size)}", size=10, anchor="end")
        )
        for j, value in enumerate(row):
            if value is None:
                continue
            x = label_w + j * cell_w
            title = f"{cohort}, {grid.period} {grid.offsets[j]}: {format_share(value)}"
            body.append(_rect(x + 1, y + 1, cell_w - 2, row_h - 2, shade(value), cls="cell", title=title))
            if cell_w >= 30:
                fill = "#FFFFFF" if value >= 0.55 else INK
                body.append(
                    _text(
                        x + cell_w / 2,
                        y + row_h / 2 + 3.5,
                        format_share(value),
                        size=8,
                        anchor="middle",
                        fill=fill,
                    )
                )
    height = top + len(grid.cohorts) * row_h + 4
    return _svg(height, body, "Customer retention by cohort")


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line class="transition" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{MUTED}" stroke-width="1.4" marker-end="url(#arrowhead)"/>'
    )


def state_positions(count: int, width: float, height: float, margin: float) -> list[tuple[float, float]]:
    """Centres of ``count`` states in a ``width`` x ``height`` area, ``margin`` clear of its edges:
    in a row for two, on a circle (the first at the top) for more. Any unit: the deck's inches too."""
    cx, cy = width / 2, height / 2
    if count <= 2:
        return [(cx + (i - (count - 1) / 2) * width * 0.5, cy) for i in range(count)]
    radius = min(width, height) / 2 - margin
    return [
        (cx + radius * math.sin(2 * math.pi * i / count), cy - radius * math.cos(2 * math.pi * i / count))
        for i in range(count)
    ]


def state_diagram_svg(diagram: StateDiagram) -> str:
    """One circle per state (its customers now and chance of staying), an arrow labelled with
    the chance of moving for every other state it leads to."""
    height, radius, offset = 360.0, 44.0, 7.0
    centres = state_positions(len(diagram.names), WIDTH, height, 60)
    body = [
        '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{MUTED}"/>'
        "</marker></defs>"
    ]
    for i, (x1, y1) in enumerate(centres):
        for j, (x2, y2) in enumerate(centres):
            chance = diagram.transitions[i][j]
            if i == j or chance < MIN_ARROW:
                continue
            length = math.hypot(x2 - x1, y2 - y1) or 1.0
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            # Each direction runs on its own side of the centre line, so A→B and B→A stay apart.
            nx, ny = -uy * offset, ux * offset
            start = (x1 + ux * radius + nx, y1 + uy * radius + ny)
            end = (x2 - ux * (radius + 2) + nx, y2 - uy * (radius + 2) + ny)
            body.append(_arrow(*start, *end))
            mx, my = (start[0] + end[0]) / 2 + nx * 1.9, (start[1] + end[1]) / 2 + ny * 1.9
            body.append(_text(mx, my + 4, format_share(chance), size=10, anchor="middle", fill=INK))
    for i, (name, (x, y)) in enumerate(zip(diagram.names, centres, strict=True)):
        stay = format_share(diagram.transitions[i][i])
        body.append(
            f'<circle class="state" cx="{x:.1f}" cy="{y:.1f}" r="{radius:.0f}" fill="#F3F5F8" '
            f'stroke="#0F766E" stroke-width="2"><title>{escape(name)}</title></circle>'
        )
        body.append(_text(x, y - 8, name, size=12, anchor="middle", bold=True))
        body.append(
            _text(
                x, y + 7, f"{format_count(diagram.customers_now[i])} now", size=9, anchor="middle", fill=MUTED
            )
        )
        body.append(_text(x, y + 20, f"stay {stay}", size=9, anchor="middle", fill=MUTED))
    return _svg(height, body, "Lifecycle states and the chances of moving between them")
