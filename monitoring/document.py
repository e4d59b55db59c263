"""``monitoring.pdf``: one monitoring pass in words and tables, in the report's page style."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

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

from .charts import feature_distributions
from .models import MonitoringCheck

LEVEL_WORDS = {"none": "no drift", "warning": "warning", "drift": "drift"}
CHECK_NAMES = {
    "features": "Feature distributions",
    "segment_shares": "Segment shares",
    "per_segment": "Features within segments",
    "migration": "Customers moving between segments",
    "novelty": "Customers far from every segment",
    "refit": "A refit on the current data",
}
TEST_NAMES = {
    "ks": "Kolmogorov–Smirnov",
    "chi_square": "χ² (two samples)",
    "z_test": "two-proportion z-test",
    "wasserstein_normed": "Wasserstein / reference SD",
    "jensen_shannon": "Jensen–Shannon distance",
    "none": "not tested",
}
CHAPTERS = (("levels", "Levels"), ("features", "Features"), ("segments", "Segments"), ("method", "Method"))


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def level_sentences(drift: dict[str, Any]) -> list[str]:
    """What each check found, in words."""
    shares, migration, novelty, refit = (
        drift["segment_shares"],
        drift["migration"],
        drift["novelty"],
        drift["refit"],
    )
    moved = [f["feature"] for f in drift["features"] if f["level"] != "none"]
    lines = [
        f"Overall: {LEVEL_WORDS[drift['overall_level']]}, on {drift['current_customers']:,} current customers "
        f"against {drift['reference_customers']:,} reference customers.",
        "Features: " + (f"{', '.join(moved)} moved." if moved else "no feature moved beyond its thresholds."),
        f"Segment shares: PSI {_number(shares['psi'])}, χ² p = {_number(shares['p_value'])} "
        f"({LEVEL_WORDS[shares['level']]}).",
    ]
    if migration["customers_in_both"]:
        lines.append(
            f"Of {migration['customers_in_both']:,} customers present in both, {_share(migration['moved_share'])} "
            f"changed segment ({LEVEL_WORDS[migration['level']]})."
        )
    else:
        lines.append("No customer is present in both tables, so migration between segments is not measured.")
    lines.append(
        f"{_share(novelty['current_share'])} of current customers are far from every segment, against "
        f"{_share(novelty['reference_share'])} of the reference ({LEVEL_WORDS[novelty['level']]})."
    )
    if refit["drop"] is not None:
        lines.append(
            f"A refit agrees with the deployed segments with adjusted Rand {_number(refit['current_adjusted_rand'])} "
            f"on current data, {_number(refit['reference_adjusted_rand'])} on the reference "
            f"({LEVEL_WORDS[refit['level']]})."
        )
    return lines


def distribution_figures(drift: dict[str, Any]) -> str:
    """The distributions of the features at warning or drift, drawn as on the monitoring page."""
    shown = feature_distributions(drift, levels=("drift", "warning"))
    if shown["stored_before"]:
        moved = any(f["level"] != "none" for f in drift["features"])
        return (
            f"<p>{prose('This check was stored before feature distributions were kept.')}</p>"
            if moved
            else ""
        )
    # Two a row: each chart is drawn for half the page's width.
    return "".join(
        '<div style="display: inline-block; width: 49%; vertical-align: top">'
        + figure(
            render_to_string("monitoring/_distribution_svg.html", {"d": d}),
            f"{d['feature']} ({LEVEL_WORDS[d['level']]}): the share of the reference and current customers "
            f"in each {'bin of the reference deciles' if d['kind'] == 'numeric' else 'value'}.",
        )
        + "</div>"
        for d in shown["charts"]
    )


def monitoring_html(check: MonitoringCheck) -> str:
    drift = check.result
    version = check.version
    levels = html_table(
        ("Check", "Level"), [(CHECK_NAMES.get(k, k), LEVEL_WORDS[v]) for k, v in drift["levels"].items()]
    )
    features = html_table(
        ("Feature", "Test", "Statistic", "p (adjusted)", "PSI", "Level"),
        [
            (
                f["feature"],
                TEST_NAMES.get(f["test"], f["test"]),
                _number(f["statistic"]),
                _number(f["p_adjusted"]),
                _number(f["psi"]),
                LEVEL_WORDS[f["level"]],
            )
            for f in drift["features"]
        ],
        numeric=(2, 3, 4),
    )
    shares = html_table(
        ("Segment", "Name", "Reference", "Current"),
        [
            (str(r["segment"]), r["name"], _share(r["reference_share"]), _share(r["current_share"]))
            for r in drift["segment_shares"]["segments"]
        ],
        numeric=(2, 3),
    )
    per_segment = bullets(
        [f"Segment {s['segment']} ({s['name']}): {LEVEL_WORDS[s['level']]}." for s in drift["per_segment"]]
        or ["No segment has current customers to compare."]
    )
    method = bullets(
        [
            "Up to 1,000 reference customers: Kolmogorov–Smirnov for numbers, χ² for categories, a z-test for "
            "yes/no features, with Benjamini–Hochberg adjusted p-values (warning below 0.05, drift below 0.01 "
            "by default).",
            "Above: the Wasserstein distance over the reference's standard deviation and the Jensen–Shannon "
            "distance (warning from 0.05, drift from 0.1), with PSI at the reference deciles (0.1 and 0.25).",
            "Thresholds used: "
            + ", ".join(f"{k} {v:g}" for k, v in sorted(drift["thresholds"].items()))
            + ".",
        ]
    )
    body = [
        chapter(1, "levels", "Levels", bullets(level_sentences(drift)) + levels),
        chapter(2, "features", "Features", features + distribution_figures(drift)),
        chapter(3, "segments", "Segments", shares + "<h3>Within segments</h3>" + per_segment),
        chapter(4, "method", "Method", method),
    ]
    cover = cover_band(
        title=f"Monitoring of {version.label}",
        client=version.project.client.name,
        project=version.project.name,
        date=f"{check.created_at:%d %B %Y}",
        meta=[f"Overall level: {LEVEL_WORDS[check.overall_level]}", f"Version hash: {version.version_hash}"],
    )
    return document(
        title=f"Monitoring of {version.label}",
        author=version.project.client.name,
        description=f"{version.project.name} · {version.label} · monitoring",
        cover=cover,
        toc=contents(CHAPTERS),
        body="\n".join(body),
    )


def monitoring_pdf(check: MonitoringCheck) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "monitoring.pdf"
        write_pdf(monitoring_html(check), path)
        return path.read_bytes()
