"""Portal views of the reports app: the record-level export, the approved pack and every file at once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from governance.models import SegmentVersion
from projects import access
from projects.selectors import projects_for_user
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from .approved import approved_pack, approved_pack_name
from .bundle import bundle_name, deliverables_bundle
from .records import record_export


@login_required
@require_POST
def version_records_export(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(SegmentVersion.objects.select_related("project", "run"), pk=pk)
    access.require(request.user, version.project, "export_records")
    quasi = [c.strip() for c in request.POST.get("quasi_identifiers", "").split(",") if c.strip()]
    try:
        data = record_export(
            version=version,
            user=request.user,
            quasi_identifiers=quasi or None,
            generalise_to_k=request.POST.get("generalise") == "1",
            request=request,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("governance:version_detail", pk=version.pk)
    return attachment(data, f"{version.project.name}-{version.label}-records.csv", "text/csv")


@login_required
@require_GET
def version_approved_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The approved pack (approved deck and report, data files, scorers, MANIFEST.json) as a ZIP."""
    version = get_object_or_404(
        SegmentVersion.objects.filter(project__in=projects_for_user(request.user)).select_related(
            "project", "project__client"
        ),
        pk=pk,
    )
    try:
        data = approved_pack(version=version, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("governance:version_detail", pk=version.pk)
    return attachment(data, approved_pack_name(version), "application/zip")


@login_required
@require_GET
def version_deliverables_zip(request: HttpRequest, pk: int) -> HttpResponse:
    """Every deliverable of the version the user's role may download, with MANIFEST.json, as a ZIP."""
    version = get_object_or_404(
        SegmentVersion.objects.filter(project__in=projects_for_user(request.user)).select_related(
            "project", "project__client", "run__dataset"
        ),
        pk=pk,
    )
    data = deliverables_bundle(version=version, user=request.user, request=request)
    return attachment(data, bundle_name(version), "application/zip")
