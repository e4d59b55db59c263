"""Portal views of the reports app: the record-level export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from governance.models import SegmentVersion
from projects import access
from segplatform.errors import ApplicationError

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
    response = HttpResponse(data, content_type="text/csv")
    filename = f"{version.project.name}-{version.label}-records.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
