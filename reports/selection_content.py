"""How the solution was chosen: the candidate table, the reason, the runner-up and stability.

Part of :mod:`reports.content`; never imports Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from segmentation.result import RunMetrics, Selected

from .formatting import DASH, algorithm_label, format_metric, format_share


@dataclass(frozen=True)
class ValidationTable:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    selected_row: int | None
    note: str


def selection(metrics: RunMetrics) -> tuple[str, ...]:
    selected = metrics.selected
    algorithm = algorithm_label(selected.algorithm or "clustering")
    reason = selected.reason or "chosen by the engine's selection rule"
    lines = [f"Selected: {algorithm} with k = {selected.k}: {reason}."]
    runner = metrics.runner_up()
    silhouette = metrics.silhouette
    if runner is not None and silhouette is not None:
        lines.append(
            f"Runner-up: {algorithm_label(runner.algorithm or 'clustering')} with k = "
            f"{runner.k}, silhouette {format_metric(runner.silhouette, 3)} and "
            f"stability {format_metric(runner.stability, 2)} against "
            f"{format_metric(silhouette, 3)} and {format_metric(metrics.selected_stability, 2)} "
            "for the winner."
        )
    lines.append("Silhouette rewards tight, well separated segments (higher is better, max 1).")
    return tuple(lines)


def choice(selected: Selected) -> str:
    algorithm = algorithm_label(selected.algorithm or "clustering")
    head = f"Selected: {algorithm} with k = {selected.k}"
    if selected.rule == "combined" and selected.family:
        # the family rule's reason names the family, its criterion and why the runner-up lost
        return f"{head}: {selected.reason}."
    if selected.rule == "combined":
        return (
            f"{head}, the best combined score (mean rank of silhouette, Davies\u2013Bouldin, "
            "Calinski\u2013Harabasz and stability, minus penalties)."
        )
    return f"{head}: {selected.reason or 'chosen by the engine selection rule'}."


def stability_figure(selected: Selected) -> str:
    """The delivered segmentation's stability with its bootstrap interval, e.g. "0.99 (95%
    interval 0.98–0.99, 20 full-size resamples of 600 customers)"; versions before full-size
    stability give the figure alone, and no figure gives a dash."""
    if selected.stability is None:
        return DASH
    figure = format_metric(selected.stability, 2)
    if selected.stability_interval is None:
        return figure
    low, high = (format_metric(v, 2) for v in selected.stability_interval)
    resamples = selected.stability_resamples or 0
    rows = f" of {selected.stability_rows:,} customers" if selected.stability_rows else ""
    return (
        f"{figure} (95% interval {low}–{high}, {resamples} full-size resample"
        f"{'' if resamples == 1 else 's'}{rows})"
    )


def segment_stability(selected: Selected) -> tuple[tuple[int, str], ...]:
    """Each delivered segment's Jaccard stability (Hennig) with its 95% interval, by number."""
    rows = []
    for segment, jaccard in selected.segment_jaccard.items():
        interval = selected.segment_jaccard_interval.get(segment)
        words = format_metric(jaccard, 2)
        if interval is not None:
            words += f" ({format_metric(interval[0], 2)}–{format_metric(interval[1], 2)})"
        rows.append((segment, words))
    return tuple(rows)


def stability(metrics: RunMetrics) -> tuple[str, ...]:
    """What the stability figures mean and how stable the chosen solution is."""
    stability = metrics.selected_stability
    if stability is None:
        return ("Stability was not measured for this version (no bootstrap resamples).",)
    verdict = "stable" if stability >= 0.75 else "moderately stable" if stability >= 0.6 else "unstable"
    figure = (
        stability_figure(metrics.selected)
        if metrics.selected.stability is not None
        else format_metric(stability, 2)
    )
    lines = [
        f"Stability of the chosen solution: {figure} ({verdict}), the mean adjusted "
        "Rand index between the segments and those found again on bootstrap resamples (1 = identical; "
        "below 0.6 segments tend to dissolve)."
    ]
    consensus = metrics.selected.consensus_index
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


def validation(metrics: RunMetrics) -> ValidationTable:
    listed = metrics.candidates
    columns = [
        (key, title, digits)
        for key, title, digits in _COLUMNS
        if key != "stability" or any(c.stability is not None for c in listed)
    ]
    show_algorithm = len({c.algorithm for c in listed}) > 1
    headers = (("Algorithm",) if show_algorithm else ()) + ("k",) + tuple(t for _, t, _ in columns)
    headers += ("Choice",)
    rows, selected_row = [], None
    for index, candidate in enumerate(listed):
        cells = (algorithm_label(str(candidate.algorithm)),) if show_algorithm else ()
        cells += (DASH if candidate.k is None else str(candidate.k),)
        cells += tuple(format_metric(getattr(candidate, key), d) for key, _, d in columns)
        chosen = selected_row is None and candidate.is_selected_by(metrics.selected)
        rows.append((*cells, "Selected" if chosen else ""))
        if chosen:
            selected_row = index
    note = (
        "Higher silhouette and Calinski\u2013Harabasz are better; lower Davies\u2013Bouldin is better. "
        "The selected solution is marked."
    )
    return ValidationTable(tuple(headers), tuple(rows), selected_row, note)
