"""Portal views of the workflow: the project page, uploads, runs, results and downloads.

Each parses the request, calls a selector or a service, and renders.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.selectors import audit_events_for_project
from governance.presentation import project_presentation_rows
from governance.selectors import version_rows
from projects import access
from projects import selectors as project_selectors
from projects.models import Dataset
from reports.selectors import deliverables_for_user, deliverables_skipped
from reports.services import deliverable_fetch
from segmentation.explain.vocabulary import INDUSTRY_LABELS
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from . import charts, mitigation, services
from .findings import version_findings
from .forms import UploadForm
from .lifecycle_page import lifecycle_part
from .run_form import RunForm, spec_summary


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(project_selectors.projects_for_user(request.user), pk=pk)
    role = project_selectors.project_role(user=request.user, project=project)
    finished_runs = list(project.runs.filter(version__isnull=False).select_related("version")[:20])
    context = {
        "project": project,
        "role": role,
        "datasets": project.datasets.all(),
        "checking": project.datasets.filter(status=Dataset.Status.CHECKING).exists(),
        "runs": project_selectors.latest_runs(project),
        "finished_runs": finished_runs,
        "compare_pair": _compare_pair(finished_runs),
        "version_rows": version_rows(project),
        "events": audit_events_for_project(project)[:25],
        "industries": INDUSTRY_LABELS,
        "column_rows": project_presentation_rows(project),
        "can_set_industry": access.allowed(role, "set_industry"),
        "can_label": access.allowed(role, "label_columns"),
    }
    return render(request, "runs/project_detail.html", context)


def _compare_pair(finished_runs: list) -> tuple[int | None, int | None]:
    """The latest run and, to compare it with, the run of its version's lineage parent (the
    previous version of the same data), else the run before it."""
    if len(finished_runs) < 2:
        return None, None
    latest = finished_runs[0]
    parent_runs = [r.pk for r in finished_runs[1:] if r.version.pk == latest.version.parent_id]
    return latest.pk, parent_runs[0] if parent_runs else finished_runs[1].pk


@login_required
def dataset_upload(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(project_selectors.projects_for_user(request.user), pk=pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            dataset = services.dataset_upload(
                project=project,
                name=upload.name,
                content=upload.read(),
                id_column=form.cleaned_data["id_column"],
                user=request.user,
                request=request,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if dataset.is_ready:
                what = (
                    f"a transaction log, {dataset.size_sentence}"
                    if dataset.is_event_log
                    else f"{dataset.row_count} rows"
                )
                messages.success(request, f"Uploaded {dataset.name}: {what}, encrypted at rest.")
                target = f"{reverse('runs:run_new', kwargs={'pk': project.pk})}?dataset={dataset.pk}"
                if not dataset.privacy_review.is_confirmed:  # personal data found: review it first
                    target = reverse("governance:privacy_review", kwargs={"pk": dataset.pk})
            else:
                messages.info(
                    request,
                    f"Uploaded {dataset.name}, encrypted at rest: a worker is reading it now; "
                    "this page shows its rows and columns once it is checked.",
                )
                target = reverse("runs:project", kwargs={"pk": project.pk})
            if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                # The upload script navigates itself; a redirect it followed would eat the message.
                return JsonResponse({"redirect": target})
            return redirect(target)
    context = {
        "project": project,
        "form": form,
        "max_mb": settings.MAX_UPLOAD_BYTES // (1024 * 1024),
        "inline_mb": settings.DATASET_INLINE_CHECK_BYTES / (1024 * 1024),
    }
    return render(request, "runs/dataset_upload.html", context)


@login_required
def run_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(project_selectors.projects_for_user(request.user), pk=pk)
    dataset_id = request.POST.get("dataset") or request.GET.get("dataset")
    datasets = project.datasets.filter(status=Dataset.Status.READY)
    if dataset_id:
        dataset = get_object_or_404(project.datasets.all(), pk=dataset_id)
        try:
            services.dataset_ready_check(dataset)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("runs:project", pk=project.pk)
    else:
        dataset = datasets.first()
    if dataset is None:
        messages.info(request, "Upload a customer table first, and wait until it is checked.")
        return redirect("runs:dataset_upload", pk=project.pk)
    form = RunForm(request.POST or None, dataset=dataset)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.run_start(
                project=project, dataset=dataset, spec=form.run_spec(), user=request.user, request=request
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("runs:run_detail", pk=run.pk)
    return render(
        request,
        "runs/run_new.html",
        {"project": project, "dataset": dataset, "datasets": datasets, "form": form},
    )


@login_required
@require_POST
def run_spec_preview(request: HttpRequest, pk: int) -> JsonResponse:
    """The spec the run form would start, or its errors, with the messages a start would give:
    the live summary beside the form and the JSON editor's check."""
    project = get_object_or_404(project_selectors.projects_for_user(request.user), pk=pk)
    dataset = get_object_or_404(project.datasets.all(), pk=request.POST.get("dataset") or 0)
    form = RunForm(request.POST, dataset=dataset)
    if not form.is_valid():
        errors = {field: [str(m) for m in messages_] for field, messages_ in form.errors.items()}
        return JsonResponse({"spec": None, "errors": errors, "summary": []})
    spec = form.parsed_spec
    return JsonResponse({"spec": form.run_spec(), "errors": {}, "summary": spec_summary(spec, dataset)})


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(project_selectors.runs_for_user(request.user), pk=pk)
    version = getattr(run, "version", None)
    deliverables = list(version.deliverables.all()) if version else []
    context = {
        "run": run,
        "project": run.project,
        "version": version,
        "deliverables": deliverables,
        "skipped": deliverables_skipped(deliverables),
        "profile": version.profile if version else [],
        "cards": charts.segment_cards(version) if version else [],
        "charts": charts.version_charts(version) if version else None,
        "features": version.metrics_view.features if version else [],
        "findings": version_findings(version) if version else None,
        "lifecycle": lifecycle_part(version, deliverables) if version else None,
        "other_runs": run.project.runs.filter(version__isnull=False).exclude(pk=run.pk)[:20],
        "may_run": access.allowed(access.role_on(request.user, run.project), "run"),
    }
    return render(request, "runs/run_detail.html", context)


@login_required
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    """Two finished runs side by side (both must be the user's and have a version)."""
    runs = project_selectors.runs_for_user(request.user).filter(version__isnull=False)
    ids = [request.GET.get("a", ""), request.GET.get("b", "")]
    if not all(i.isdigit() for i in ids):
        messages.error(request, "Choose two finished runs to compare.")
        return redirect("projects:dashboard")
    pair = [get_object_or_404(runs, pk=int(i)) for i in ids]
    sides = [
        {
            "run": run,
            "version": run.version,
            "cards": charts.segment_cards(run.version),
            "charts": charts.version_charts(run.version),
        }
        for run in pair
    ]
    context = {
        "sides": sides,
        "project": pair[0].project,
        "agreement": charts.runs_agreement(pair[0].version, pair[1].version),
    }
    return render(request, "runs/run_compare.html", context)


@login_required
@require_GET
def run_status(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(project_selectors.runs_for_user(request.user), pk=pk)
    return JsonResponse(
        {
            "status": run.status,
            "progress": run.progress,
            "step": run.step,
            "error": run.error,
            "finished": run.is_finished,
        }
    )


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(project_selectors.runs_for_user(request.user), pk=pk)
    try:
        services.run_cancel(run=run, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The run was cancelled.")
    return redirect("runs:run_detail", pk=run.pk)


@login_required
@require_POST
def run_mitigate(request: HttpRequest, pk: int) -> HttpResponse:
    """Segment the run's data again without the proxies its bias audit flagged, to compare."""
    run = get_object_or_404(project_selectors.runs_for_user(request.user), pk=pk)
    version = getattr(run, "version", None)
    if version is None:
        messages.error(request, "This run made no version, so it has no bias audit to act on.")
        return redirect("runs:run_detail", pk=run.pk)
    try:
        started = mitigation.mitigation_start(version=version, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("runs:run_detail", pk=run.pk)
    messages.success(
        request,
        f"Run {started.pk} segments the same data without {', '.join(started.spec['excluded_features'])}; "
        "its results page compares the bias audits side by side.",
    )
    return redirect("runs:run_detail", pk=started.pk)


@login_required
@require_GET
def deliverable_download(request: HttpRequest, pk: int) -> HttpResponse:
    deliverable = get_object_or_404(deliverables_for_user(request.user), pk=pk)
    try:
        data = deliverable_fetch(deliverable=deliverable, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("governance:version_detail", pk=deliverable.version_id)
    filename = f"{deliverable.version.project.name}-{deliverable.version.label}-{deliverable.filename}"
    return attachment(data, filename, deliverable.content_type)
