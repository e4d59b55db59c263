"""The portal pages of experiments: a version's experiments and the design form, an experiment's
design, registration and downloads, and an analysis of its outcomes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance.lifecycle import version_status
from governance.selectors import versions_for_user
from projects import access
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from .analysis import experiment_analyse, registered_metrics
from .analysis_files import ANALYSIS_FILES, analysis_file
from .forms import AnalyseForm, DecisionForm, DesignForm
from .models import Experiment
from .presentation import analysis_view, design_view
from .selectors import analyses_for_user, experiment_design_json, experiments_for_user, experiments_of_version
from .services import (
    experiment_create,
    experiment_decide,
    experiment_files,
    experiment_submit,
    registration_intact,
)

EXPERIMENT_FILES = {
    "design.json": "application/json",
    "assignment.csv": "text/csv",
    "balance.csv": "text/csv",
    "assignment_postgresql.sql": "application/sql",
    "assignment_duckdb.sql": "application/sql",
}


def _form_error(form: Any, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_http_methods(["GET", "POST"])
def version_experiments(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(versions_for_user(request.user), pk=pk)
    role = access.role_on(request.user, version.project)
    status = version_status(version)
    form = DesignForm()
    if request.method == "POST":
        form = DesignForm(request.POST)
        if form.is_valid():
            try:
                experiment = experiment_create(
                    version=version,
                    name=form.cleaned_data["name"],
                    design_asked=form.design_asked(),
                    user=request.user,
                    request=request,
                )
            except ApplicationError as exc:
                _form_error(form, exc)
            else:
                messages.success(
                    request, f"'{experiment.name}' is designed as a draft: check it, then submit it."
                )
                return redirect("experiments:experiment_detail", pk=experiment.pk)
    context = {
        "version": version,
        "project": version.project,
        "status": status,
        "status_words": status.replace("_", " "),
        "role": role,
        "experiments": list(experiments_of_version(version)),
        "can_create": access.allowed(role, "run") and status == "approved",
        "form": form,
    }
    return render(
        request, "experiments/version_experiments.html", context, status=400 if form.errors else 200
    )


def _experiment_page(
    request: HttpRequest, experiment: Experiment, *, analyse_form: AnalyseForm | None = None
) -> HttpResponse:
    role = access.role_on(request.user, experiment.project)
    design, design_error = experiment_design_json(experiment)
    authors = {experiment.created_by_id, experiment.submitted_by_id}
    is_author = request.user.pk in authors
    submitted = experiment.status == Experiment.Status.SUBMITTED
    form = analyse_form or AnalyseForm(
        initial={
            "metrics": ", ".join(registered_metrics(design)),
            "covariate": (design or {}).get("covariate") or "",
        }
    )
    context = {
        "experiment": experiment,
        "version": experiment.version,
        "project": experiment.project,
        "design": design_view(design) if design is not None else None,
        "design_error": design_error,
        "frozen": experiment.registration is not None,
        "intact": experiment.registration is None or registration_intact(experiment),
        "files": list(EXPERIMENT_FILES),
        "can_submit": access.allowed(role, "submit")
        and experiment.status in (Experiment.Status.DRAFT, Experiment.Status.REJECTED),
        "can_decide": access.allowed(role, "approve") and submitted and not is_author,
        "waiting_for_other": submitted and is_author,
        "can_analyse": access.allowed(role, "upload"),
        "analyse_form": form,
        "analyses": list(experiment.analyses.select_related("created_by")),
    }
    return render(
        request,
        "experiments/experiment_detail.html",
        context,
        status=400 if analyse_form is not None and analyse_form.errors else 200,
    )


@login_required
@require_GET
def experiment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _experiment_page(request, get_object_or_404(experiments_for_user(request.user), pk=pk))


@login_required
@require_POST
def experiment_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(experiments_for_user(request.user), pk=pk)
    try:
        experiment = experiment_submit(experiment=experiment, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"'{experiment.name}' is submitted: its design is frozen (SHA-256 {experiment.registration_sha256[:12]}…) "
            "and waits for a reviewer other than you to register it.",
        )
    return redirect("experiments:experiment_detail", pk=experiment.pk)


@login_required
@require_POST
def experiment_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(experiments_for_user(request.user), pk=pk)
    role = access.role_on(request.user, experiment.project)
    if not access.allowed(role, "approve"):
        messages.error(
            request,
            f"A {role} cannot register or reject a design: a reviewer or a project administrator "
            "other than its author does (maker-checker).",
        )
        return redirect("experiments:experiment_detail", pk=experiment.pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Register or Reject.")
        return redirect("experiments:experiment_detail", pk=experiment.pk)
    approve = form.cleaned_data["action"] == "register"
    try:
        experiment = experiment_decide(
            experiment=experiment,
            approve=approve,
            user=request.user,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"'{experiment.name}' is {experiment.get_status_display().lower()}.")
    return redirect("experiments:experiment_detail", pk=experiment.pk)


@login_required
@require_POST
def experiment_analyse_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(experiments_for_user(request.user), pk=pk)
    access.require(request.user, experiment.project, "upload")
    form = AnalyseForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            analysis = experiment_analyse(
                experiment=experiment,
                name=upload.name,
                content=upload.read(),
                metrics=form.cleaned_data["metrics"],
                covariate=form.cleaned_data["covariate"] or None,
                user=request.user,
                request=request,
            )
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            return redirect("experiments:analysis_detail", pk=analysis.pk)
    return _experiment_page(request, experiment, analyse_form=form)


@login_required
@require_GET
def experiment_file(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    experiment = get_object_or_404(experiments_for_user(request.user), pk=pk)
    if name not in EXPERIMENT_FILES:
        raise Http404(f"an experiment has no file {name}")
    try:
        files = experiment_files(experiment=experiment, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("experiments:experiment_detail", pk=experiment.pk)
    return attachment(
        files[name], f"{experiment.project.name}-{experiment.name}-{name}", EXPERIMENT_FILES[name]
    )


@login_required
@require_GET
def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = get_object_or_404(analyses_for_user(request.user), pk=pk)
    experiment = analysis.experiment
    context = {
        "analysis": analysis,
        "experiment": experiment,
        "version": experiment.version,
        "project": experiment.project,
        "view": analysis_view(analysis.result, covariate=analysis.covariate),
        "files": list(ANALYSIS_FILES),
    }
    return render(request, "experiments/analysis_detail.html", context)


@login_required
@require_GET
def analysis_file_view(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    analysis = get_object_or_404(analyses_for_user(request.user), pk=pk)
    if name not in ANALYSIS_FILES:
        raise Http404(f"an analysis has no file {name}")
    experiment = analysis.experiment
    try:
        data = analysis_file(analysis=analysis, name=name, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("experiments:analysis_detail", pk=analysis.pk)
    return attachment(
        data,
        f"{experiment.project.name}-{experiment.name}-analysis-{analysis.pk}-{name}",
        ANALYSIS_FILES[name],
    )
