"""An experiment's design.json and analysis.json shaped for its pages: tables in words and figures,
the forest plot of each metric."""

from __future__ import annotations

from typing import Any

from .document import forest_svg

METHOD_WORDS = {
    "welch_t": "difference (Welch's t)",
    "two_proportion_z": "difference (two-proportion z)",
    "relative_lift": "relative lift",
    "cuped_welch_t": "difference with CUPED",
    "post_stratified": "overall (post-stratified)",
}
# The effect the forest plot shows per segment: CUPED when the analysis has a covariate.
PLOTTED = ("welch_t", "two_proportion_z")
PLOTTED_CUPED = ("cuped_welch_t",)


def figure(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}g}"


def fixed(value: Any, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"


def count(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


def segment_words(segment: Any) -> str:
    return "All customers" if str(segment) == "all" else f"Segment {segment}"


def design_view(design: dict[str, Any]) -> dict[str, Any]:
    arm_names = [str(a["name"]) for a in design.get("arms") or []]
    cuped = design.get("cuped")
    return {
        "arms": ", ".join(f"{a['name']} ({a['ratio']})" for a in design.get("arms") or []),
        "arm_names": arm_names,
        "primary": design.get("primary"),
        "guardrails": design.get("guardrails") or [],
        "customers": design.get("customers"),
        "counts": [
            {
                "segment": c["segment"],
                "customers": count(c["customers"]),
                "arms": [count(c["arms"].get(a, 0)) for a in arm_names],
            }
            for c in design.get("counts") or []
        ],
        "power": [
            {
                "segment": r["segment"],
                "segment_words": segment_words(r["segment"]),
                "arm": r["arm"],
                "n_control": r["n_control"],
                "n_treatment": r["n_treatment"],
                "required_control": r["required_control"],
                "required_treatment": r["required_treatment"],
                "achieved_power": fixed(r["achieved_power"]),
                "achieved_power_cuped": fixed(r.get("achieved_power_cuped"))
                if "achieved_power_cuped" in r
                else None,
                "readable": r["readable"],
            }
            for r in design.get("power_rows") or []
        ],
        "with_cuped_power": any("achieved_power_cuped" in r for r in design.get("power_rows") or []),
        "cuped": None
        if not cuped
        else {
            "covariate": design.get("covariate") or "the covariate",
            "rho": figure(cuped["rho"]),
            "factor": fixed(cuped["variance_reduction"]),
            "less": f"{100 * (1 - float(cuped['variance_reduction'])):.0f}%",
        },
        "balance": [
            {
                "segment": r["segment"],
                "covariate": r["covariate"],
                "arm": r["arm"],
                "mean_control": figure(r["mean_control"], 4),
                "mean_arm": figure(r["mean_arm"], 4),
                "smd": fixed(r["smd"]),
                "flagged": r["flagged"],
            }
            for r in design.get("balance_rows") or []
        ],
        "flagged_balance": design.get("flagged_balance", 0),
        "too_small": design.get("segments_too_small") or [],
        "alpha": design.get("alpha"),
        "power_level": design.get("power"),
        "seed": design.get("seed"),
        "salt": design.get("salt", ""),
        "hypotheses": design.get("hypotheses") or "",
        "analysis_plan": design.get("analysis_plan") or "",
    }


def _effect(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "segment": row["segment"],
        "segment_words": segment_words(row["segment"]),
        "metric": row["metric"],
        "arm": row["arm"],
        "method": row["method"],
        "method_words": METHOD_WORDS.get(str(row["method"]), str(row["method"])),
        "estimate": figure(row["estimate"], 4),
        "ci": f"{figure(row['ci_low'], 4)} to {figure(row['ci_high'], 4)}",
        "p_value": figure(row.get("p_value")),
        "p_adjusted": figure(row.get("p_adjusted")),
        "n_control": count(row.get("n_control")),
        "n_treatment": count(row.get("n_treatment")),
        "exploratory": bool(row.get("exploratory")),
    }


def analysis_view(result: dict[str, Any], *, covariate: str) -> dict[str, Any]:
    effects = list(result.get("effects") or [])
    plotted = (*PLOTTED_CUPED, "post_stratified") if covariate else (*PLOTTED, "post_stratified")
    metrics = []
    for metric in dict.fromkeys(str(r["metric"]) for r in effects):
        rows = [r for r in effects if str(r["metric"]) == metric]
        metrics.append(
            {
                "name": metric,
                "exploratory": any(r.get("exploratory") for r in rows),
                "forest": forest_svg([r for r in rows if str(r["method"]) in plotted]),
                "effects": [_effect(r) for r in rows],
                "heterogeneity": _heterogeneity((result.get("heterogeneity") or {}).get(metric)),
            }
        )
    coverage = result.get("coverage") or {}
    return {
        "metrics": metrics,
        "correction": "Benjamini–Hochberg" if result.get("correction") == "fdr_bh" else "Holm",
        "srm": [
            {
                "segment": r["segment"],
                "segment_words": segment_words(r["segment"]),
                "arm": r["arm"],
                "expected_share": f"{float(r['expected_share']):.1%}",
                "observed": count(r["observed"]),
                "expected": figure(r["expected"], 5),
                "chi2": figure(r["chi2"]),
                "p_value": figure(r["p_value"]),
                "flagged": bool(r.get("flagged")),
            }
            for r in result.get("srm") or []
        ],
        "srm_flagged": result.get("srm_flagged") or [],
        "coverage": [
            ("Customers assigned", count(coverage.get("assigned"))),
            ("Rows of outcomes", count(coverage.get("with_outcomes"))),
            ("Customers analysed", count(coverage.get("analysed"))),
            ("Outcomes of customers not assigned", count(coverage.get("outcomes_not_assigned"))),
            ("Assigned customers without outcomes", count(coverage.get("assigned_without_outcomes"))),
        ],
        "missing_values": sorted((coverage.get("missing_values") or {}).items()),
        "missing": [
            {
                **m,
                "segment_words": segment_words(m["segment"]),
                "method_words": METHOD_WORDS.get(m["method"], m["method"]),
            }
            for m in result.get("missing") or []
        ],
    }


def _heterogeneity(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    if not entry or entry.get("q") is None:
        return None
    return {
        "q": figure(entry.get("q")),
        "df": entry.get("df"),
        "p_value": figure(entry.get("p_value")),
        "i2": f"{100 * float(entry['i2']):.0f}%" if entry.get("i2") is not None else "—",
        "arm": entry.get("arm"),
    }
