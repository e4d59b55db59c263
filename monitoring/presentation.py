"""A version's monitoring checks shaped for its page: levels in words, tables, the trend, charts."""

from __future__ import annotations

from typing import Any

from .charts import feature_distributions, migration_heatmap, share_chart
from .document import CHECK_NAMES, LEVEL_WORDS, TEST_NAMES, level_sentences
from .models import MonitoringCheck


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def check_detail(check: MonitoringCheck) -> dict[str, Any]:
    drift = check.result
    distributions = feature_distributions(drift)
    for chart in distributions["charts"]:
        chart["words"] = LEVEL_WORDS[chart["level"]]
    return {
        "check": check,
        "sentences": level_sentences(drift),
        "levels": [
            {"key": key, "name": CHECK_NAMES.get(key, key), "level": level, "words": LEVEL_WORDS[level]}
            for key, level in drift["levels"].items()
        ],
        "features": [
            {
                "feature": f["feature"],
                "test": TEST_NAMES.get(f["test"], f["test"]),
                "statistic": _figure(f["statistic"]),
                "p_adjusted": _figure(f["p_adjusted"]),
                "psi": _figure(f["psi"]),
                "level": f["level"],
                "words": LEVEL_WORDS[f["level"]],
            }
            for f in drift["features"]
        ],
        "shares": [
            {
                "segment": r["segment"],
                "name": r["name"],
                "reference": _share(r["reference_share"]),
                "current": _share(r["current_share"]),
                "reference_width": round(100 * r["reference_share"], 1),
                "current_width": round(100 * r["current_share"], 1),
            }
            for r in drift["segment_shares"]["segments"]
        ],
        "heatmap": migration_heatmap(drift),
        "distributions": distributions,
    }


def check_trend(checks: list[MonitoringCheck]) -> dict[str, Any]:
    """Each check's levels, oldest first, one column per check kind; the segment shares' chart."""
    keys = list(CHECK_NAMES)
    return {
        "names": [CHECK_NAMES[k] for k in keys],
        "rows": [
            {
                "check": check,
                "overall": check.overall_level,
                "levels": [check.result["levels"].get(key, "none") for key in keys],
            }
            for check in sorted(checks, key=lambda c: (c.created_at, c.pk))
        ],
        "shares": share_chart(checks),
    }
