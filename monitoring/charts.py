"""The monitoring page's charts, shaped for its SVG include templates (``templates/monitoring/_*.html``):
coordinates, colours and the exact figure of each mark in its ``<title>``. No JavaScript draws them.

- the segment shares over checks: one line per segment, the reference share first, then each check
  oldest to newest;
- the migration table's cells shaded by their share of the reference segment's row;
- each feature's distribution in the reference and the current data, the bins its PSI used,
  features at drift first. Checks stored before drift.json kept distributions have none to show.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from reports.formatting import shorten
from reports.svg import FONT, INK, MUTED, RULE, segment_color
from segmentation import SegmentationError
from segmentation.lifecycle.transitions import predicted_shares

from .models import MonitoringCheck

WIDTH = 640
REFERENCE_COLOR, CURRENT_COLOR = "#1f6f6b", "#9a6b16"  # the page's share bars
HEAT_RGB = "31, 111, 107"
LEVEL_ORDER = {"drift": 0, "warning": 1, "none": 2}
SMALL_WIDTH, SMALL_HEIGHT = 300, 170


def share_text(value: float | None) -> str:
    """A share as the page shows it."""
    return "—" if value is None else f"{100 * value:.1f}%"


def _edge_text(value: float) -> str:
    return f"{value:.3g}"


def _ordered(checks: Sequence[MonitoringCheck]) -> list[MonitoringCheck]:
    return sorted(checks, key=lambda c: (c.created_at, c.pk))


def _axis_top(values: Sequence[float]) -> tuple[float, float]:
    """A rounded top for shares (0 to 1) and its tick step."""
    high = max([0.0, *values])
    step = 0.05 if high <= 0.25 else 0.1 if high <= 0.6 else 0.2
    return min(max(math.ceil(high / step - 1e-9) * step, step), 1.0), step


def share_chart(checks: Sequence[MonitoringCheck]) -> dict[str, Any] | None:
    """Each segment's share over checks, the reference first; None without checks."""
    ordered = _ordered(checks)
    if not ordered:
        return None
    names: dict[int, str] = {}
    for check in ordered:
        for row in check.result["segment_shares"]["segments"]:
            names.setdefault(int(row["segment"]), row["name"])
    segments = sorted(names)
    reference = {
        int(r["segment"]): r["reference_share"] for r in ordered[-1].result["segment_shares"]["segments"]
    }
    columns = [("reference", "the reference", reference)] + [
        (
            f"{check.created_at:%m-%d %H:%M}",
            f"the check of {check.created_at:%Y-%m-%d %H:%M}",
            {int(r["segment"]): r["current_share"] for r in check.result["segment_shares"]["segments"]},
        )
        for check in ordered
    ]
    left, right, top, plot_h = 52, 40, 14, 200
    plot_w = WIDTH - left - right
    high, step = _axis_top([v for _, _, shares in columns for v in shares.values()])

    def x_of(i: int) -> float:
        return left + plot_w / 2 if len(columns) == 1 else left + plot_w * i / (len(columns) - 1)

    def y_of(share: float) -> float:
        return top + plot_h * (1 - share / high)

    series = []
    for index, segment in enumerate(segments):
        label = f"{segment} {names[segment]}".strip()
        points = []
        for i, (_, when, shares) in enumerate(columns):
            share = shares.get(segment, 0.0)  # not in a table: no customer of it there
            points.append(
                {
                    "x": round(x_of(i), 1),
                    "y": round(y_of(share), 1),
                    "share": share_text(share),
                    "title": f"{label}: {share_text(share)} of the customers in {when}",
                }
            )
        series.append(
            {
                "segment": segment,
                "name": label,
                "color": segment_color(index),
                "points": points,
                "path": " ".join(f"{'M' if i == 0 else 'L'}{p['x']},{p['y']}" for i, p in enumerate(points)),
            }
        )
    every = max(1, math.ceil(len(columns) / 8))
    x_labels = [
        {"x": round(x_of(i), 1), "text": text}
        for i, (text, _, _) in enumerate(columns)
        if i % every == 0 or i == len(columns) - 1
    ]
    ticks = [
        {
            "y": round(y_of(k * step), 1),
            "text_y": round(y_of(k * step) + 3, 1),
            "text": f"{100 * k * step:.0f}%",
        }
        for k in range(round(high / step) + 1)
    ]
    legend_top = top + plot_h + 44
    legend = [
        {
            "x": round((i % 3) * WIDTH / 3 + 8, 1),
            "y": legend_top + (i // 3) * 18,
            "text_x": round((i % 3) * WIDTH / 3 + 23, 1),
            "text_y": legend_top + (i // 3) * 18 + 9,
            "color": s["color"],
            "name": shorten(s["name"], 34),
        }
        for i, s in enumerate(series)
    ]
    return {
        "width": WIDTH,
        "height": legend_top + math.ceil(len(series) / 3) * 18 + 4,
        "left": left,
        "tick_x": left - 6,
        "right": WIDTH - right,
        "centre": left + plot_w / 2,
        "top": top,
        "bottom": top + plot_h,
        "middle": top + plot_h / 2,
        "x_label_y": top + plot_h + 16,
        "axis_title_y": top + plot_h + 32,
        "series": series,
        "ticks": ticks,
        "x_labels": x_labels,
        "legend": legend,
        "style": _style(),
    }


def migration_heatmap(drift: dict[str, Any]) -> dict[str, Any]:
    """The migration table, each cell with its share of its reference segment's row and a
    background as intense as that share (the counts stay the cells' text)."""
    matrix = drift["migration"]["matrix"]
    columns = [c for c in (matrix[0] if matrix else {}) if c != "reference_segment"]
    rows = []
    for row in matrix:
        counts = [int(row[c]) for c in columns]
        total = sum(counts) or 1
        rows.append(
            {
                "segment": row["reference_segment"],
                "cells": [
                    {
                        "count": n,
                        "current": c.removeprefix("current_"),
                        "intensity": round(n / total, 4),
                        "background": f"rgba({HEAT_RGB}, {0.06 + 0.5 * n / total:.3f})"
                        if n
                        else "transparent",
                        "title": (
                            f"{share_text(n / total)} of reference segment {row['reference_segment']}'s "
                            f"customers are in segment {c.removeprefix('current_')} now ({n:,})"
                        ),
                    }
                    for n, c in zip(counts, columns, strict=True)
                ],
            }
        )
    return {
        "columns": [c.removeprefix("current_") for c in columns],
        "rows": rows,
        "predicted": predicted_segment_shares(matrix),
    }


def predicted_segment_shares(matrix: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each segment's share now and next period, if customers keep moving between segments as
    they did from the reference to now (a Markov chain whose one-period step is the migration
    matrix's rows as shares; :func:`segmentation.lifecycle.transitions.predicted_shares`).
    Empty when no customer is in both."""
    if not matrix:
        return []
    columns = [c for c in matrix[0] if c != "reference_segment"]
    counts = pd.DataFrame(
        [[float(row[c]) for c in columns] for row in matrix],
        index=[str(row["reference_segment"]) for row in matrix],
        columns=[c.removeprefix("current_") for c in columns],
    )
    rows = counts.sum(axis=1)
    step = counts.div(rows.where(rows > 0), axis=0).loc[rows > 0]
    now = counts.sum(axis=0)
    if now.sum() <= 0:
        return []
    try:
        following = predicted_shares(now, step)
    except SegmentationError:
        return []  # a segment holds customers now that no reference customer came from
    shares = now / now.sum()
    return [
        {"segment": s, "now": share_text(float(shares[s])), "next": share_text(float(following.get(s, 0.0)))}
        for s in counts.columns
    ]


def _bin_labels(shown: dict[str, Any]) -> list[str]:
    if shown["kind"] != "numeric":
        return [str(c) for c in shown["categories"]]
    edges = shown["edges"]
    last = len(edges) - 2
    return [
        f"{_edge_text(lo)} to {_edge_text(hi)}{' (inclusive)' if i == last else ''}"
        for i, (lo, hi) in enumerate(itertools.pairwise(edges))
    ]


def distribution_chart(feature: dict[str, Any]) -> dict[str, Any]:
    """One feature's paired bars, reference then current, per bin or category."""
    shown = feature["distribution"]
    left, right, top, plot_h = 34, 6, 22, 96
    plot_w = SMALL_WIDTH - left - right
    labels = _bin_labels(shown)
    high, step = _axis_top([*shown["reference"], *shown["current"]])
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.4
    bars, axis = [], []
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, (sample, color) in enumerate((("reference", REFERENCE_COLOR), ("current", CURRENT_COLOR))):
            share = shown[sample][i]
            height = plot_h * share / high
            bars.append(
                {
                    "sample": sample,
                    "x": round(x0 + j * bar_w, 1),
                    "y": round(top + plot_h - height, 1),
                    "width": round(bar_w, 1),
                    "height": round(height, 1),
                    "color": color,
                    "share": share_text(share),
                    "title": f"{feature['feature']} {label}: {share_text(share)} of the {sample} customers",
                }
            )
        if shown["kind"] != "numeric":
            axis.append(
                {
                    "x": round(left + (i + 0.5) * group_w, 1),
                    "text": shorten(label, max(int(group_w / 5), 3)),
                }
            )
    if shown["kind"] == "numeric":
        edges = shown["edges"]
        every = 1 if len(edges) <= 6 else 2
        axis = [
            {"x": round(left + i * group_w, 1), "text": _edge_text(edge)}
            for i, edge in enumerate(edges)
            if i % every == 0 or i == len(edges) - 1
        ]
    ticks = [
        {
            "y": round(top + plot_h * (1 - k * step / high), 1),
            "text_y": round(top + plot_h * (1 - k * step / high) + 3, 1),
            "text": f"{100 * k * step:.0f}%",
        }
        for k in range(round(high / step) + 1)
    ]
    return {
        "feature": feature["feature"],
        "level": feature["level"],
        "kind": shown["kind"],
        "width": SMALL_WIDTH,
        "height": top + plot_h + 36,
        "left": left,
        "tick_x": left - 4,
        "right": SMALL_WIDTH - right,
        "centre": left + plot_w / 2,
        "legend_x": (
            SMALL_WIDTH - right - 150,
            SMALL_WIDTH - right - 136,
            SMALL_WIDTH - right - 70,
            SMALL_WIDTH - right - 56,
        ),
        "top": top,
        "bottom": top + plot_h,
        "axis_y": top + plot_h + 13,
        "axis_title_y": top + plot_h + 30,
        "axis_title": "bins of the reference deciles" if shown["kind"] == "numeric" else "values",
        "bars": bars,
        "ticks": ticks,
        "axis": axis,
        "reference_color": REFERENCE_COLOR,
        "current_color": CURRENT_COLOR,
        "style": _style(),
    }


def feature_distributions(
    drift: dict[str, Any], *, levels: Sequence[str] = ("drift", "warning", "none")
) -> dict[str, Any]:
    """The features' charts at ``levels``, drift first; ``stored_before`` when the check predates
    distributions in drift.json; ``untested`` names features without one."""
    features = [f for f in drift["features"] if f["level"] in levels]
    if any("distribution" not in f for f in drift["features"]):
        return {"stored_before": True, "charts": [], "untested": []}
    ordered = sorted(features, key=lambda f: LEVEL_ORDER.get(f["level"], 3))
    return {
        "stored_before": False,
        "charts": [distribution_chart(f) for f in ordered if f["distribution"]],
        "untested": [f["feature"] for f in ordered if not f["distribution"]],
    }


def _style() -> dict[str, str]:
    return {"font": FONT, "ink": INK, "muted": MUTED, "rule": RULE}
