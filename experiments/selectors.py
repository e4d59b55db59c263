"""Read-only queries of experiments, always scoped to the projects the user is a member of: an
experiment or analysis of another project does not exist for them (a 404)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from projects.selectors import projects_for_user
from segplatform.errors import ApplicationError

from .models import Experiment, ExperimentAnalysis
from .services import experiment_design

User = AbstractBaseUser | AnonymousUser


def experiments_for_user(user: User) -> QuerySet[Experiment]:
    return Experiment.objects.filter(project__in=projects_for_user(user)).select_related(
        "project", "version", "created_by", "submitted_by", "decided_by"
    )


def analyses_for_user(user: User) -> QuerySet[ExperimentAnalysis]:
    return ExperimentAnalysis.objects.filter(experiment__project__in=projects_for_user(user)).select_related(
        "experiment__project", "experiment__version", "created_by"
    )


def experiments_of_version(version: Any) -> QuerySet[Experiment]:
    return version.experiments.select_related("created_by").order_by("-created_at", "-id")


def experiment_design_json(experiment: Experiment) -> tuple[dict[str, Any] | None, str]:
    """The experiment's design.json: the frozen registration once submitted, otherwise computed
    live from the version's labels; with the reason when it cannot be computed."""
    if experiment.registration is not None:
        return experiment.registration, ""
    try:
        return experiment_design(experiment).to_dict(), ""
    except ApplicationError as exc:
        return None, exc.message
