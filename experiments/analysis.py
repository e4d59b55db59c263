"""Analysing an experiment's outcomes: uploaded per customer, anonymised as the version's data was,
then compared arm against control within every segment by the engine."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
from django.db import transaction

from audit.services import audit_record
from monitoring.services import current_dataset_upload
from projects import access
from segmentation import SegmentationError
from segmentation.experiments import Analysis, analyse, correction_from_plan
from segplatform.errors import ApplicationError

from .models import Experiment, ExperimentAnalysis
from .services import canonical_json, experiment_design


def registered_metrics(registration: dict[str, Any] | None) -> list[str]:
    """The metrics a registration names (primary, then guardrails): the confirmatory ones."""
    if not registration:
        return []
    names = [
        m.get("name") for m in [registration.get("primary") or {}, *(registration.get("guardrails") or [])]
    ]
    return [str(n) for n in names if n]


def registered_experiment(design: dict[str, Any]) -> Experiment | None:
    """The registered experiment whose frozen design.json this is, if any."""
    digest = hashlib.sha256(canonical_json(design)).hexdigest()
    return Experiment.objects.filter(registration_sha256=digest, status=Experiment.Status.REGISTERED).first()


def outcomes_table(dataset: Any) -> pd.DataFrame:
    table = dataset.read_table()
    table = table.rename(columns={dataset.id_column: "customer_id"})
    table["customer_id"] = table["customer_id"].astype(str)
    return table


def outcomes_analysed(
    *,
    design: dict[str, Any],
    assignment: pd.DataFrame,
    outcomes: pd.DataFrame,
    metrics: list[str],
    covariate: str | None,
    correction: str | None,
    registered: list[str],
) -> Analysis:
    plan_correction = correction or correction_from_plan(design)
    try:
        return analyse(
            design,
            assignment,
            outcomes,
            metrics=metrics,
            covariate=covariate or None,
            correction=plan_correction,
            registered_metrics=registered,
        )
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field="file") from None


def is_exploratory(registration: dict[str, Any] | None, metrics: list[str], covariate: str | None) -> bool:
    if not registration:
        return True
    registered_covariate = registration.get("covariate") or None
    return (
        any(m not in registered_metrics(registration) for m in metrics)
        or (covariate or None) != registered_covariate
    )


def experiment_analyse(
    *,
    experiment: Experiment,
    name: str,
    content: bytes,
    metrics: list[str],
    covariate: str | None,
    user: Any,
    request: Any = None,
) -> ExperimentAnalysis:
    """Upload outcomes and analyse them against the experiment's assignment; audited."""
    access.require(user, experiment.project, "upload")
    if not metrics:
        raise ApplicationError("name at least one outcome column to analyse", field="metrics")
    built = experiment_design(experiment)
    design = experiment.registration or built.to_dict()
    dataset = current_dataset_upload(
        version=experiment.version, name=name, content=content, user=user, request=request
    )
    registration = experiment.registration if experiment.status == Experiment.Status.REGISTERED else None
    analysis = outcomes_analysed(
        design=design,
        assignment=built.assignment,
        outcomes=outcomes_table(dataset),
        metrics=metrics,
        covariate=covariate,
        correction=None,
        registered=registered_metrics(registration),
    )
    exploratory = is_exploratory(registration, metrics, covariate)
    with transaction.atomic():
        row = ExperimentAnalysis.objects.create(
            experiment=experiment,
            dataset=dataset,
            metrics=metrics,
            covariate=covariate or "",
            exploratory=exploratory,
            result=analysis.to_dict(),
            created_by=user,
        )
        audit_record(
            action="experiment.analyse",
            actor=user,
            project=experiment.project,
            obj=experiment,
            request=request,
            details={
                "analysis": row.pk,
                "dataset": dataset.pk,
                "metrics": metrics,
                "exploratory": exploratory,
            },
        )
    return row
