"""The files of an analysis as the portal serves them: effects.csv, srm.csv, analysis.json (the
engine's ``write_analysis`` files, rebuilt from the stored analysis.json) and experiment.pdf;
every download audited."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from audit.services import audit_record
from projects import access
from segmentation.experiments.analysis import EFFECT_COLUMNS
from segmentation.experiments.srm import SRM_COLUMNS
from segplatform.errors import ApplicationError

from .document import experiment_pdf
from .models import Experiment, ExperimentAnalysis
from .selectors import analysis_design_json

ANALYSIS_FILES = {
    "effects.csv": "text/csv",
    "srm.csv": "text/csv",
    "analysis.json": "application/json",
    "experiment.pdf": "application/pdf",
}


def _table(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    frame = pd.DataFrame(rows)
    return (
        frame.reindex(columns=[*columns, *(c for c in frame.columns if c not in columns)])
        .to_csv(index=False)
        .encode()
    )


def analysis_file_bytes(analysis: ExperimentAnalysis, name: str) -> bytes:
    result = analysis.result
    if name == "effects.csv":
        return _table(result.get("effects") or [], EFFECT_COLUMNS)
    if name == "srm.csv":
        return _table(result.get("srm") or [], SRM_COLUMNS)
    if name == "analysis.json":
        return (json.dumps(result, indent=2, allow_nan=False) + "\n").encode()
    experiment = analysis.experiment
    return experiment_pdf(
        version=experiment.version,
        design=analysis_design_json(analysis),
        analysis=result,
        registered=experiment.status == Experiment.Status.REGISTERED,
    )


def analysis_file(*, analysis: ExperimentAnalysis, name: str, user: Any, request: Any = None) -> bytes:
    """One of the analysis's files for a member who may view the project; audited."""
    experiment = analysis.experiment
    access.require(user, experiment.project, "view")
    if name not in ANALYSIS_FILES:
        raise ApplicationError(f"an analysis has no file {name!r}: {', '.join(ANALYSIS_FILES)}")
    data = analysis_file_bytes(analysis, name)
    audit_record(
        action="experiment.analysis_download",
        actor=user,
        project=experiment.project,
        obj=experiment,
        request=request,
        details={"analysis": analysis.pk, "file": name},
    )
    return data
