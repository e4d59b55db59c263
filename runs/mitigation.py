"""Starting a mitigation run: a version's data segmented again without the proxies its audit flagged."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from governance.models import BiasAudit, Mitigation, SegmentVersion
from projects.models import SegmentationRun
from segmentation.protection.mitigation import flagged_proxies
from segplatform.errors import ApplicationError

from .services import run_start


def mitigation_proxies(version: SegmentVersion) -> list[str]:
    """The clustering features the version's bias audit flagged as proxies (empty when none)."""
    audit = BiasAudit.objects.filter(version=version).first()
    if audit is None:
        return []
    spec = version.segmentation_spec
    numeric = version.metrics_view.features
    categorical = [c for c in spec.categorical_columns if c not in spec.excluded_features]
    return flagged_proxies(audit.findings, (*numeric, *categorical) if numeric else None)


def mitigation_start(
    *, version: SegmentVersion, user: AbstractBaseUser, request: HttpRequest | None = None
) -> SegmentationRun:
    """Queue a run on the version's dataset with its flagged proxies in ``excluded_features``."""
    if version.run is None or version.run.dataset_id is None:
        raise ApplicationError(f"{version.label} has no run whose data could be segmented again")
    dropped = mitigation_proxies(version)
    if not dropped:
        raise ApplicationError(
            f"the bias audit of {version.label} flagged no proxy feature, so there is nothing to drop"
        )
    spec = dict(version.spec)
    spec["excluded_features"] = sorted({*spec.get("excluded_features", []), *dropped})
    with transaction.atomic():
        run = run_start(
            project=version.project, dataset=version.run.dataset, spec=spec, user=user, request=request
        )
        Mitigation.objects.create(source=version, run=run, dropped_features=dropped)
    return run


def _two(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _gap(gap: dict[str, Any] | None) -> str:
    if gap is None:
        return "—"
    return f"{gap['difference']:.0%} (segment {gap['segment']}; 95% {gap['low']:.0%}–{gap['high']:.0%})"


def mitigation_part(version: SegmentVersion) -> dict[str, Any]:
    """The results page's mitigation block: the comparison when this version is a mitigation run,
    the proxies a new one would drop, and the mitigation runs already started from this version."""
    audit = BiasAudit.objects.filter(version=version).first()
    stored = (audit.findings.get("mitigation") if audit is not None else None) or None
    comparison = None
    if stored is not None:
        quality = stored["quality"]
        comparison = {
            "source_label": stored.get("source_label", ""),
            "dropped": stored["dropped_features"],
            "rows": [
                {
                    "attribute": a["attribute"],
                    "auc": (_two(a["auc_before"]), _two(a["auc_after"])),
                    "gap": (_gap(a["largest_gap_before"]), _gap(a["largest_gap_after"])),
                    "flags": (a["four_fifths_flags_before"], a["four_fifths_flags_after"]),
                }
                for a in stored["attributes"]
            ],
            "k": (quality["k_before"], quality["k_after"]),
            "silhouette": (_two(quality["silhouette_before"]), _two(quality["silhouette_after"])),
            "summary": stored["summary"],
        }
    started = [
        {"run": m.run_id, "status": m.run.get_status_display(), "dropped": m.dropped_features}
        for m in Mitigation.objects.filter(source=version).select_related("run")
    ]
    return {
        "comparison": comparison,
        "proxies": mitigation_proxies(version) if comparison is None else [],
        "started": started,
    }
