"""``experiment.pdf``: an experiment's design and analysis in the report's page style, with a forest
plot of the effect in every segment."""

from __future__ import annotations

import tempfile
from html import escape
from pathlib import Path
from typing import Any

from reports.blocks import (
    bullets,
    chapter,
    contents,
    cover_band,
    document,
    figure,
    html_table,
    prose,
    write_pdf,
)

CHAPTERS = (
    ("design", "Design"),
    ("effects", "Effects by segment"),
    ("checks", "Checks"),
    ("method", "Method"),
)
WIDTH, ROW, LEFT, RIGHT = 640, 22, 170, 40


def _number(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}g}"


def analysis_standing(registered: bool, exploratory: bool) -> str:
    """What an analysis can claim, for the PDF's cover and the deck's notes."""
    if not registered:
        return "The design was not registered (submitted and approved by someone else), so every result here is exploratory."
    if exploratory:
        return "The design is registered, but this analysis reads a metric or covariate it did not register: exploratory."
    return "This analysis follows a registered design: its registered metrics are confirmatory."


def forest_svg(rows: list[dict[str, Any]]) -> str:
    """Each row's estimate and interval on one axis through zero; the overall row last, as a diamond."""
    shown = [r for r in rows if r.get("estimate") is not None and r.get("ci_low") is not None]
    if not shown:
        return ""
    low = min(0.0, *(float(r["ci_low"]) for r in shown))
    high = max(0.0, *(float(r["ci_high"]) for r in shown))
    span = (high - low) or 1.0
    low, high = low - 0.05 * span, high + 0.05 * span

    def x(value: float) -> float:
        return LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT)

    height = ROW * (len(shown) + 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img">',
        f'<line x1="{x(0):.1f}" y1="4" x2="{x(0):.1f}" y2="{height - ROW:.1f}" stroke="#888" stroke-dasharray="3 3"/>',
    ]
    for i, r in enumerate(shown):
        y = ROW * (i + 1)
        label = "All customers" if str(r["segment"]) == "all" else f"Segment {r['segment']}"
        title = escape(f"{label}: {_number(r['estimate'])} [{_number(r['ci_low'])}, {_number(r['ci_high'])}]")
        parts.append(
            f'<text x="4" y="{y + 4}" font-size="11">{escape(label)} · {escape(str(r["arm"]))}</text>'
        )
        parts.append(
            f'<line x1="{x(float(r["ci_low"])):.1f}" y1="{y}" x2="{x(float(r["ci_high"])):.1f}" y2="{y}" stroke="#1f4e79" stroke-width="2"/>'
        )
        cx = x(float(r["estimate"]))
        if str(r["segment"]) == "all":
            parts.append(
                f'<polygon points="{cx - 6:.1f},{y} {cx:.1f},{y - 6} {cx + 6:.1f},{y} {cx:.1f},{y + 6}" fill="#1f4e79"><title>{title}</title></polygon>'
            )
        else:
            parts.append(
                f'<circle cx="{cx:.1f}" cy="{y}" r="4" fill="#1f4e79"><title>{title}</title></circle>'
            )
    axis_y = height - ROW + 12
    for value in (low, 0.0, high):
        parts.append(
            f'<text x="{x(value):.1f}" y="{axis_y}" font-size="10" text-anchor="middle">{_number(value, 2)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def experiment_html(
    *,
    version: Any,
    design: dict[str, Any],
    analysis: dict[str, Any],
    registered: bool,
    exploratory: bool | None = None,
) -> str:
    effects = list(analysis.get("effects") or [])
    arms = ", ".join(f"{a['name']} ({a['ratio']})" for a in design.get("arms") or [])
    arm_names = [str(a["name"]) for a in design.get("arms") or []]
    counts = html_table(
        ("Segment", "Customers", *arm_names),
        [
            (
                str(c["segment"]),
                f"{int(c['customers']):,}",
                *(f"{int(c['arms'].get(a, 0)):,}" for a in arm_names),
            )
            for c in design.get("counts") or []
        ],
        numeric=tuple(range(1, 2 + len(arm_names))),
    )
    standing = analysis_standing(registered, bool(exploratory))
    design_part = (
        bullets(
            [
                f"Version {version.label} ({version.version_hash[:12]}), arms {arms}, salt {design.get('salt', '')}.",
                f"α {design.get('alpha')}, power {design.get('power')}, seed {design.get('seed')}.",
                standing,
            ]
        )
        + counts
    )
    metric_parts = []
    for metric in dict.fromkeys(str(r["metric"]) for r in effects):
        rows = [r for r in effects if str(r["metric"]) == metric]
        exploratory = any(r.get("exploratory") for r in rows)
        table = html_table(
            ("Segment", "Arm", "Method", "Estimate", "95% interval", "p", "p adjusted", "n control", "n arm"),
            [
                (
                    str(r["segment"]),
                    str(r["arm"]),
                    str(r["method"]),
                    _number(r["estimate"]),
                    f"{_number(r['ci_low'])} to {_number(r['ci_high'])}",
                    _number(r.get("p_value")),
                    _number(r.get("p_adjusted")),
                    f"{int(r['n_control']):,}" if r.get("n_control") is not None else "—",
                    f"{int(r['n_treatment']):,}" if r.get("n_treatment") is not None else "—",
                )
                for r in rows
            ],
            numeric=(3, 5, 6, 7, 8),
        )
        main_rows = [
            r
            for r in rows
            if str(r["method"]) in ("welch_t", "two_proportion_z", "cuped_welch_t", "post_stratified")
        ]
        plot = forest_svg(main_rows)
        heading = f"<h3>{escape(metric)}{' (exploratory)' if exploratory else ''}</h3>"
        metric_parts.append(
            heading
            + (
                figure(plot, f"{metric}: the difference from the control in each segment, with its interval.")
                if plot
                else ""
            )
            + table
        )
    heterogeneity = analysis.get("heterogeneity") or {}
    checks = html_table(
        ("Segment", "Arm", "Expected share", "Observed", "Expected", "χ²", "p", "Mismatch"),
        [
            (
                str(r["segment"]),
                str(r["arm"]),
                f"{float(r['expected_share']):.1%}",
                f"{int(r['observed']):,}",
                _number(r["expected"], 5),
                _number(r["chi2"]),
                _number(r["p_value"]),
                "yes (p < 0.001)" if r.get("flagged") else "no",
            )
            for r in analysis.get("srm") or []
        ],
        numeric=(2, 3, 4, 5, 6),
    ) + bullets(
        [
            f"{metric}: Cochran's Q {_number(h.get('q'))} on {h.get('df')} degrees of freedom, p {_number(h.get('p_value'))}, I² {_number(h.get('i2'))}."
            for metric, h in heterogeneity.items()
        ]
        or ["Heterogeneity across segments is not measured with fewer than two segments."]
    )
    method = bullets(
        [
            "Customers were assigned within each segment in the order of md5(salt + customer id), arms dealt by their ratios "
            "(blocked randomisation the assignment scripts repeat in the client's database).",
            "Differences in means by Welch's t-test and interval; in proportions by the two-proportion z-test (pooled) with a "
            "Wald interval; relative lift by the delta method; CUPED on the pre-period covariate where one is given.",
            "Overall: the segments' effects weighted by their share of customers (post-stratified). Adjusted p-values by the "
            "design's correction across segments and metrics; sample-ratio mismatch by χ², flagged below p = 0.001.",
        ]
    )
    body = [
        chapter(1, "design", "Design", design_part),
        chapter(
            2,
            "effects",
            "Effects by segment",
            "".join(metric_parts) or f"<p>{prose('No effect was estimated.')}</p>",
        ),
        chapter(3, "checks", "Checks", checks),
        chapter(4, "method", "Method", method),
    ]
    cover = cover_band(
        title=f"Experiment on {version.label}",
        client=version.project.client.name,
        project=version.project.name,
        meta=[standing, f"Version hash: {version.version_hash}"],
    )
    return document(
        title=f"Experiment on {version.label}",
        author=version.project.client.name,
        description=f"{version.project.name} · {version.label} · experiment",
        cover=cover,
        toc=contents(CHAPTERS),
        body="\n".join(body),
    )


def experiment_pdf(
    *,
    version: Any,
    design: dict[str, Any],
    analysis: dict[str, Any],
    registered: bool,
    exploratory: bool | None = None,
) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "experiment.pdf"
        html = experiment_html(
            version=version, design=design, analysis=analysis, registered=registered, exploratory=exploratory
        )
        write_pdf(html, path)
        return path.read_bytes()
