"""Portal views: parse the request, call a selector or a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from segplatform.errors import ApplicationError

from . import access, selectors, services
from .forms import MemberInviteForm, MemberRoleForm, ProjectForm
from .models import Membership, Project


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


def _project(request: HttpRequest, pk: int) -> Project:
    return get_object_or_404(selectors.projects_for_user(request.user), pk=pk)


def _member(project: Project, user_id: int) -> Membership:
    return get_object_or_404(selectors.project_members(project), user_id=user_id)


@login_required
def members(request: HttpRequest, pk: int) -> HttpResponse:
    """Everyone on the project; an administrator also invites, changes roles and removes."""
    project = _project(request, pk)
    role = selectors.project_role(user=request.user, project=project)
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST":
        access.require(request.user, project, "manage_members")
        if form.is_valid():
            try:
                membership = services.member_invite(
                    project=project,
                    actor=request.user,
                    username_or_email=form.cleaned_data["user"],
                    role=form.cleaned_data["role"],
                    request=request,
                )
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                name = membership.user.get_username()
                messages.success(request, f"{name} joined the project as {membership.get_role_display()}.")
                return redirect("projects:members", pk=project.pk)
    context = {
        "project": project,
        "role": role,
        "members": selectors.project_members(project),
        "can_manage": access.allowed(role, "manage_members"),
        "roles": Membership.Role.choices,
        "form": form,
    }
    return render(request, "projects/members.html", context)


@login_required
@require_POST
def member_role(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    project = _project(request, pk)
    access.require(request.user, project, "manage_members")
    membership = _member(project, user_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Choose one of the roles for {membership.user.get_username()}.")
        return redirect("projects:members", pk=project.pk)
    try:
        changed = services.member_role_set(
            project=project,
            actor=request.user,
            user=membership.user,
            role=form.cleaned_data["role"],
            request=request,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{changed.user.get_username()} is now {changed.get_role_display()}.")
    return redirect("projects:members", pk=project.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    project = _project(request, pk)
    access.require(request.user, project, "manage_members")
    membership = _member(project, user_id)
    try:
        services.member_remove(project=project, actor=request.user, user=membership.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("projects:members", pk=project.pk)
    messages.success(request, f"{membership.user.get_username()} no longer works on this project.")
    if membership.user == request.user:
        # Having removed themselves, the page they came from is now a 404 for them.
        return redirect("projects:dashboard")
    return redirect("projects:members", pk=project.pk)
