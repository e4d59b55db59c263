"""Portal views: parse the request, call a selector or a service, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from segplatform.errors import ApplicationError

from . import selectors, services
from .forms import ProjectForm


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    projects = selectors.projects_for_user(request.user).prefetch_related("runs")
    return render(request, "projects/dashboard.html", {"projects": projects})


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(
                client=services.client_get_or_create(name=form.cleaned_data["client"]),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                user=request.user,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("runs:project", pk=project.pk)
    return render(request, "projects/project_new.html", {"form": form})
