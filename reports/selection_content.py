"""How the solution was chosen: the candidate table, the reason, the runner-up and stability.

Part of :mod:`reports.content`; never imports Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .formatting import DASH, algorithm_label, format_metric, format_share
from .reading import as_float, candidates, is_selected


@dataclass(frozen=True)
class ValidationTable:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    selected_row: int | None
    note: str


def selection(metrics: Mapping[str, Any], selected: Mapping[str, Any]) -> tuple[str, ...]:
    k = selected.get("k")
    algorithm = algorithm_label(str(selected.get("algorithm") or "clustering"))
    reason = str(selected.get("reason") or "chosen by the engine's selection rule")
    lines = [f"Selected: {algorithm} with k = {k}: {reason}."]
    runner = _runner_up(metrics, selected)
    silhouette = as_float(selected.get("silhouette"))
    stability = as_float(selected.get("stability"))
    if stability is None:
        stability = next(
            (as_float(c.get("stability")) for c in candidates(metrics) if is_selected(c, selected)), None
        )
    if runner is not None and silhouette is not None:
        lines.append(
            f"Runner-up: {algorithm_label(str(runner.get('algorithm') or 'clustering'))} with k = "
            f"{runner.get('k')}, silhouette {format_metric(as_float(runner.get('silhouette')), 3)} and "
            f"stability {format_metric(as_float(runner.get('stability')), 2)} against "
            f"{format_metric(silhouette, 3)} and {format_metric(stability, 2)} "
            "for the winner."
        )
    lines.append("Silhouette rewards tight, well separated segments (higher is better, max 1).")
    return tuple(lines)


def choice(selected: Mapping[str, Any]) -> str:
    algorithm = algorithm_label(str(selected.get("algorithm") or "clustering"))
    head = f"Selected: {algorithm} with k = {selected.get('k')}"
    if selected.get("rule") == "combined":
        return (
            f"{head}, the best combined score (mean rank of silhouette, Davies\u2013Bouldin, "
            "Calinski\u2013Harabasz and stability, minus penalties)."
        )
    return f"{head}: {selected.get('reason') or 'chosen by the engine selection rule'}."


def _runner_up(metrics: Mapping[str, Any], selected: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The second choice: best combined score when the engine scored candidates, else silhouette."""
    others = [
        c
        for c in candidates(metrics)
        if not is_selected(c, selected) and as_float(c.get("silhouette")) is not None
    ]
    if not others:
        return None
    key = "score" if any(as_float(c.get("score")) is not None for c in others) else "silhouette"
    return max(others, key=lambda c: as_float(c.get(key)) if as_float(c.get(key)) is not None else -1e9)


def stability(metrics: Mapping[str, Any], selected: Mapping[str, Any]) -> tuple[str, ...]:
    """What the stability figures mean and how stable the chosen solution is."""
    stability = as_float(selected.get("stability"))
    if stability is None:
        stability = next(
            (as_float(c.get("stability")) for c in candidates(metrics) if is_selected(c, selected)), None
        )
    if stability is None:
        return ("Stability was not measured for this version (no bootstrap resamples).",)
    verdict = "stable" if stability >= 0.75 else "moderately stable" if stability >= 0.6 else "unstable"
    lines = [
        f"Stability of the chosen solution: {format_metric(stability, 2)} ({verdict}), the mean adjusted "
        "Rand index between the segments and those found again on bootstrap resamples (1 = identical; "
        "below 0.6 segments tend to dissolve)."
    ]
    consensus = as_float(selected.get("consensus_index"))
    if consensus is not None:
        lines.append(
            f"Consensus: on re-clustered resamples, customers of the same segment stay together "
            f"{format_share(consensus)} of the time."
        )
    return tuple(lines)


_COLUMNS = (
    ("silhouette", "Silhouette", 3),
    ("davies_bouldin", "Davies\u2013Bouldin", 3),
    ("calinski_harabasz", "Calinski\u2013Harabasz", 1),
    ("stability", "Stability", 2),
)


def validation(metrics: Mapping[str, Any], selected: Mapping[str, Any]) -> ValidationTable:
    listed = candidates(metrics)
    columns = [
        (key, title, digits)
        for key, title, digits in _COLUMNS
        if key != "stability" or any(as_float(c.get(key)) is not None for c in listed)
    ]
    show_algorithm = len({c.get("algorithm") for c in listed}) > 1
    headers = (("Algorithm",) if show_algorithm else ()) + ("k",) + tuple(t for _, t, _ in columns)
    headers += ("Choice",)
    rows, selected_row = [], None
    for index, candidate in enumerate(listed):
        cells = (algorithm_label(str(candidate.get("algorithm"))),) if show_algorithm else ()
        cells += (str(candidate.get("k", DASH)),)
        cells += tuple(format_metric(as_float(candidate.get(key)), d) for key, _, d in columns)
        chosen = selected_row is None and is_selected(candidate, selected)
        rows.append((*cells, "Selected" if chosen else ""))
        if chosen:
            selected_row = index
    note = (
        "Higher silhouette and Calinski\u2013Harabasz are better; lower Davies\u2013Bouldin is better. "
        "The selected solution is marked."
    )
    return ValidationTable(tuple(headers), tuple(rows), selected_row, note)
