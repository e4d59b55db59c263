"""Governance pages: privacy review of uploads, versions and their lifecycle, audit exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.export import audit_trail_export
from projects import access
from projects.models import Dataset, Project
from projects.services import project_industry_set
from segmentation.protection.pii import ACTIONS, LABELS
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from .deployment import version_deploy, version_deployment
from .diff import version_diff_context
from .dp_policy import WITHHELD_UNDER_DP, dp_policy_applies
from .dp_release import dp_budget, dp_budget_spent, dp_release_create, dp_release_fetch
from .erasure import customer_erase
from .lifecycle import (
    version_actions,
    version_authors,
    version_needs_override,
    version_status,
    version_transition,
)
from .models import DPRelease, PrivacyReview, SegmentVersion, VersionStatusChange
from .pii_review import policy_for, privacy_review_confirm
from .presentation import column_labels_set, presented_segments, segment_names_set


@login_required
def privacy_review(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset.objects.select_related("project"), pk=pk)
    role = access.require(request.user, dataset.project, "view")
    review = get_object_or_404(PrivacyReview, dataset=dataset)
    error = ""
    if request.method == "POST":
        access.require(request.user, dataset.project, "review_pii")
        decisions = _decisions_from(request, review, dataset)
        try:
            privacy_review_confirm(
                review=review,
                decisions=decisions,
                quasi_identifiers=request.POST.getlist("quasi_identifiers"),
                sensitive=request.POST.getlist("sensitive"),
                user=request.user,
                request=request,
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, "Privacy review confirmed: the table was anonymised.")
            return redirect(
                f"{reverse('runs:run_new', kwargs={'pk': dataset.project_id})}?dataset={dataset.pk}"
            )
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "review": review,
        "role": role,
        "can_confirm": access.allowed(role, "review_pii") and not review.is_confirmed,
        "actions": ACTIONS,
        "kinds": LABELS,
        "columns": [c for c in dataset.columns],
        "flagged": {f["column"] for f in review.findings},
        "error": error,
    }
    return render(request, "governance/privacy_review.html", context, status=400 if error else 200)


def _decisions_from(
    request: HttpRequest, review: PrivacyReview, dataset: Dataset
) -> dict[str, dict[str, str]]:
    decisions = {}
    for finding in review.findings:
        column = finding["column"]
        decisions[column] = {
            "action": request.POST.get(f"action__{column}", finding["suggested_action"]),
            "kind": request.POST.get(f"kind__{column}", finding["kind"]),
        }
    # The consultant may flag a column detection missed.
    extra = request.POST.get("extra_column", "").strip()
    if extra:
        decisions[extra] = {
            "action": request.POST.get("extra_action", "drop"),
            "kind": request.POST.get("extra_kind", "person_name"),
        }
    return decisions


def _version(request: HttpRequest, pk: int, action: str = "view") -> tuple[SegmentVersion, str]:
    version = get_object_or_404(SegmentVersion.objects.select_related("project", "run", "created_by"), pk=pk)
    return version, access.require(request.user, version.project, action)


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version, role = _version(request, pk)
    return _version_page(request, version, role)


def _version_page(
    request: HttpRequest,
    version: SegmentVersion,
    role: str,
    names_error: ApplicationError | None = None,
    posted: dict[int, tuple[str, str]] | None = None,
) -> HttpResponse:
    """The version page; after a refused rename, with the consultant's entries and the error."""
    status = version_status(version)
    others = version.project.versions.exclude(pk=version.pk)
    other_id = request.GET.get("compare")
    diff = None
    if other_id:
        other = get_object_or_404(others, pk=other_id)
        old, new = (other, version) if other.number < version.number else (version, other)
        diff = version_diff_context(old, new)
    is_author = request.user.pk in version_authors(version)
    actions = version_actions(version, request.user)
    context = {
        "version": version,
        "project": version.project,
        "role": role,
        "status": status,
        "status_label": VersionStatusChange.Status(status).label,
        "history": version.status_changes.select_related("actor"),
        "latest_change": version.status_changes.select_related("actor")
        .order_by("-created_at", "-id")
        .first(),
        "bias": getattr(version, "bias_audit", None),
        "others": others,
        "diff": diff,
        "deliverables": version.deliverables.all(),
        "can": {
            **{action: action in actions for action in ("submit", "approve", "retire")},
            "export_records": access.allowed(role, "export_records"),
            "deploy": access.allowed(role, "deploy") and status == VersionStatusChange.Status.APPROVED,
        },
        "deployment": version_deployment(version),
        "is_author": is_author,
        "needs_override": version_needs_override(version),
        "dp_releases": version.dp_releases.all(),
        "dp_spent": dp_budget_spent(version),
        "dp_budget": dp_budget(version),
        "dp_withheld": WITHHELD_UNDER_DP if dp_policy_applies(version) else frozenset(),
        "can_dp": access.allowed(role, "dp_release"),
        "target_k": policy_for(version.project).target_k,
        "names": _names_rows(version, names_error, posted),
        "names_error": names_error.message if names_error else "",
        "can_name": access.allowed(role, "name_segments") and status == VersionStatusChange.Status.DRAFT,
    }
    return render(request, "governance/version_detail.html", context, status=400 if names_error else 200)


def _names_rows(
    version: SegmentVersion, error: ApplicationError | None, posted: dict[int, tuple[str, str]] | None
) -> list[dict[str, object]]:
    rows = []
    for segment in presented_segments(version):
        name, actions = (posted or {}).get(segment.segment, (segment.name, segment.actions_text))
        rows.append(
            {
                "segment": segment,
                "name": name,
                "actions": actions,
                "error": error.message
                if error and error.field in (f"name_{segment.segment}", f"actions_{segment.segment}")
                else "",
            }
        )
    return rows


@login_required
@require_POST
def version_names(request: HttpRequest, pk: int) -> HttpResponse:
    """The "Names and actions" form: one name and one actions box (a line each) per segment."""
    version, role = _version(request, pk, "name_segments")
    posted = {
        segment.segment: (
            request.POST.get(f"name_{segment.segment}", segment.name),
            request.POST.get(f"actions_{segment.segment}", segment.actions_text),
        )
        for segment in presented_segments(version)
    }
    edits = [
        {"segment": number, "name": name, "actions": actions.splitlines()}
        for number, (name, actions) in posted.items()
    ]
    try:
        segment_names_set(version=version, segments=edits, user=request.user, request=request)
    except ApplicationError as exc:
        return _version_page(request, version, role, names_error=exc, posted=posted)
    messages.success(
        request, f"{version.label}: names and actions saved; the draft deck and report use them."
    )
    return redirect("governance:version_detail", pk=version.pk)


@login_required
@require_POST
def version_action(request: HttpRequest, pk: int) -> HttpResponse:
    version, _ = _version(request, pk)
    action = request.POST.get("action", "")
    try:
        version_transition(
            version=version,
            action=action,
            user=request.user,
            reason=request.POST.get("reason", ""),
            request=request,
            override_reason=request.POST.get("override_reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.label}: {action} recorded.")
    return redirect("governance:version_detail", pk=version.pk)


@login_required
@require_POST
def version_deploy_view(request: HttpRequest, pk: int) -> HttpResponse:
    version, _ = _version(request, pk)
    try:
        deployment = version_deploy(version=version, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.label} is now the deployed version of '{deployment.lineage}'.")
    return redirect("governance:version_detail", pk=version.pk)


@login_required
@require_GET
def audit_trail_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    project = get_object_or_404(Project, pk=pk)
    access.require(request.user, project, "export_audit")
    data = audit_trail_export(project=project, fmt=fmt, user=request.user, request=request)
    content_type = "text/csv" if fmt == "csv" else "application/pdf"
    return attachment(data, f"{project.name}-audit-trail.{fmt}", content_type)


@login_required
def project_governance(request: HttpRequest, pk: int) -> HttpResponse:
    """The project's privacy settings, erasure requests and audit exports."""
    project = get_object_or_404(Project, pk=pk)
    role = access.require(request.user, project, "view")
    if request.method == "POST":
        access.require(request.user, project, "erase")
        try:
            counts = customer_erase(
                project=project,
                original_id=request.POST.get("original_id", ""),
                user=request.user,
                request=request,
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Customer erased: {counts['rows']} row(s) from {counts['datasets']} dataset(s) and "
                f"{counts['label_files']} label file(s).",
            )
        return redirect("governance:project", pk=project.pk)
    context = {
        "project": project,
        "role": role,
        "policy": policy_for(project),
        "can_export": access.allowed(role, "export_audit"),
        "can_erase": access.allowed(role, "erase"),
        "reviews": PrivacyReview.objects.filter(dataset__project=project).select_related("dataset"),
    }
    return render(request, "governance/project.html", context)


@login_required
@require_POST
def version_dp_release(request: HttpRequest, pk: int) -> HttpResponse:
    version, _ = _version(request, pk, "dp_release")
    try:
        epsilon = float(request.POST.get("epsilon", ""))
    except ValueError:
        messages.error(request, "epsilon must be a number, e.g. 0.5")
        return redirect("governance:version_detail", pk=version.pk)
    try:
        release = dp_release_create(version=version, epsilon=epsilon, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Released a differentially private profile (ε={release.epsilon:g}).")
    return redirect("governance:version_detail", pk=version.pk)


@login_required
@require_GET
def dp_release_download(request: HttpRequest, pk: int) -> HttpResponse:
    release = get_object_or_404(DPRelease.objects.select_related("version__project"), pk=pk)
    version, _ = _version(request, release.version_id, "view")
    data = dp_release_fetch(release=release, user=request.user, request=request)
    return attachment(data, f"{version.project.name}-{version.label}-dp_release_{release.pk}.csv", "text/csv")


@login_required
@require_POST
def project_presentation(request: HttpRequest, pk: int) -> HttpResponse:
    """The project page's small form: the industry (administrators) and the columns' labels."""
    project = get_object_or_404(Project, pk=pk)
    role = access.require(request.user, project, "view")
    industry = request.POST.get("industry")
    labels = {
        request.POST[key]: request.POST.get(f"label_{key.removeprefix('column_')}", "")
        for key in request.POST
        if key.startswith("column_")
    }
    try:
        if labels and access.allowed(role, "label_columns"):
            column_labels_set(project=project, labels=labels, user=request.user, request=request)
        if industry is not None and industry != project.industry:
            project_industry_set(project=project, industry=industry, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Saved: the next runs and the draft documents use these words.")
    return redirect(reverse("runs:project", kwargs={"pk": project.pk}) + "#presentation")
