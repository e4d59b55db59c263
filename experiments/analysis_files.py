"""An analysis's files, from its stored result: effects.csv, srm.csv, analysis.json, and the
experiment.pdf and experiment.pptx documents that present it. Each download is audited."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from audit.services import audit_record
from projects import access
from segmentation.experiments.analysis import EFFECT_COLUMNS
from segmentation.experiments.srm import SRM_COLUMNS
from segplatform.errors import ApplicationError

from .deck import experiment_deck
from .document import experiment_pdf
from .models import Experiment, ExperimentAnalysis
from .services import experiment_design

ANALYSIS_FILES = {
    "effects.csv": "text/csv",
    "srm.csv": "text/csv",
    "analysis.json": "application/json",
    "experiment.pdf": "application/pdf",
    "experiment.pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def _table(records: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    frame = pd.DataFrame.from_records(records)
    if columns is not None:
        frame = frame.reindex(columns=[*columns, *(c for c in frame.columns if c not in columns)])
    return frame.to_csv(index=False).encode()


def analysis_document_inputs(analysis: ExperimentAnalysis) -> dict[str, Any]:
    """What experiment.pdf and experiment.pptx are drawn from: the version, the design the analysis
    read (the registration, or a draft's design computed afresh), and whether it was registered."""
    experiment = analysis.experiment
    registered = experiment.status == Experiment.Status.REGISTERED
    design = experiment.registration if experiment.registration is not None else None
    if design is None:
        design = {**experiment_design(experiment).to_dict(), "experiment": experiment.name}
    return {
        "version": experiment.version,
        "design": design,
        "analysis": analysis.result,
        "registered": registered,
    }


def analysis_file(*, analysis: ExperimentAnalysis, name: str, user: Any, request: Any = None) -> bytes:
    """One of :data:`ANALYSIS_FILES` for ``analysis``; audited as ``experiment.analysis_download``."""
    experiment = analysis.experiment
    access.require(user, experiment.project, "view")
    if name not in ANALYSIS_FILES:
        raise ApplicationError(
            f"an analysis has no file '{name}': ask for one of {', '.join(ANALYSIS_FILES)}", field="name"
        )
    result = analysis.result or {}
    if name == "effects.csv":
        data = _table(result.get("effects") or [], EFFECT_COLUMNS)
    elif name == "srm.csv":
        data = _table(result.get("srm") or [], SRM_COLUMNS)
    elif name == "analysis.json":
        data = (json.dumps(result, indent=2, ensure_ascii=False) + "\n").encode()
    elif name == "experiment.pdf":
        data = experiment_pdf(**analysis_document_inputs(analysis), exploratory=analysis.exploratory)
    else:
        data = experiment_deck(**analysis_document_inputs(analysis), exploratory=analysis.exploratory)
    audit_record(
        action="experiment.analysis_download",
        actor=user,
        project=experiment.project,
        obj=experiment,
        request=request,
        details={"analysis": analysis.pk, "file": name, "exploratory": analysis.exploratory},
    )
    return data
