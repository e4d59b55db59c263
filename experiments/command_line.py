"""What ``manage.py experiment`` does, as functions: a design written to files, and an analysis of
outcomes against a design's files. Audited with the command line's actor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from audit.services import audit_record
from governance.lifecycle import version_status
from governance.models import SegmentVersion
from monitoring.services import current_dataset_upload
from segmentation import SegmentationError
from segmentation.experiments import write_analysis
from segplatform.errors import ApplicationError

from .analysis import outcomes_analysed, outcomes_table, registered_experiment, registered_metrics
from .document import experiment_pdf
from .services import design_files, version_design


def asked_design(options: dict[str, Any]) -> dict[str, Any]:
    """The design a command line asks for, in the form the portal stores."""
    asked: dict[str, Any] = {
        "arms": options["arms"],
        "seed": options["seed"],
        "alpha": options["alpha"],
        "power": options["power"],
        "covariate": options.get("covariate"),
        "rho": options.get("rho"),
    }
    if options.get("metric"):
        if options.get("baseline") is None or options.get("mde") is None:
            raise ApplicationError("--metric needs --baseline and --mde (and --sd for a continuous metric)")
        asked["primary"] = {
            "name": options["metric"],
            "kind": options["kind"],
            "baseline": options["baseline"],
            "sd": options.get("sd"),
            "mde": options["mde"],
        }
    return asked


def design_to_files(*, version: SegmentVersion, options: dict[str, Any], out: Path, actor: str) -> list[Path]:
    built = version_design(version, asked_design(options))
    registration = {
        **built.to_dict(),
        "version_label": version.label,
        "version_status": version_status(version),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in design_files(built, registration).items():
        (out / name).write_bytes(data)
        written.append(out / name)
    audit_record(
        action="experiment.design",
        actor_name=actor,
        project=version.project,
        obj=version,
        details={"arms": options["arms"], "seed": options["seed"], "salt": built.salt},
    )
    return written


def analyse_from_files(
    *,
    design_path: Path,
    outcomes_path: Path,
    metrics: list[str],
    covariate: str | None,
    correction: str | None,
    out: Path,
    actor: str,
) -> list[Path]:
    design = json.loads(design_path.read_text(encoding="utf-8"))
    assignment_path = design_path.parent / "assignment.csv"
    if not assignment_path.exists():
        raise ApplicationError(
            f"no assignment.csv beside {design_path}: analyse reads the design's own assignment"
        )
    assignment = pd.read_csv(assignment_path, dtype={"customer_id": str, "arm": str})
    version = SegmentVersion.objects.filter(version_hash=str(design.get("version_hash", ""))).first()
    if version is None:
        raise ApplicationError(
            "design.json names no version on this platform (version_hash): design it here first"
        )
    dataset = current_dataset_upload(
        version=version,
        name=outcomes_path.name,
        content=outcomes_path.read_bytes(),
        user=None,
        actor_name=actor,
    )
    registered = registered_experiment(design)
    analysis = outcomes_analysed(
        design=design,
        assignment=assignment,
        outcomes=outcomes_table(dataset),
        metrics=metrics,
        covariate=covariate,
        correction=correction,
        registered=registered_metrics(registered.registration if registered is not None else None),
    )
    out.mkdir(parents=True, exist_ok=True)
    try:
        written = list(write_analysis(analysis, out))
    except SegmentationError as exc:
        raise ApplicationError(str(exc)) from None
    pdf = out / "experiment.pdf"
    pdf.write_bytes(
        experiment_pdf(
            version=version, design=design, analysis=analysis.to_dict(), registered=registered is not None
        )
    )
    written.append(pdf)
    audit_record(
        action="experiment.analyse",
        actor_name=actor,
        project=version.project,
        obj=version,
        details={"dataset": dataset.pk, "metrics": metrics, "registered": registered is not None},
    )
    return written
