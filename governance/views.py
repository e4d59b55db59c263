"""Governance pages: privacy review of uploads, versions and their lifecycle, audit exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from projects.models import Dataset
from segmentation.pii import ACTIONS, LABELS
from segplatform.errors import ApplicationError

from . import access
from .models import PrivacyReview
from .pii_review import privacy_review_confirm


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
                f"{reverse('projects:run_new', kwargs={'pk': dataset.project_id})}?dataset={dataset.pk}"
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
