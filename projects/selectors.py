"""Read-only queries, always scoped to what the user may see.

Every view, download and API endpoint starts from one of these, so a project the user is not a
member of simply does not exist for them (a 404, never a 403 that confirms it exists).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, QuerySet, Value, When

from .models import Dataset, Membership, Project, SegmentationRun

User = AbstractBaseUser | AnonymousUser


def projects_for_user(user: User) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).select_related("client").distinct()


def project_role(*, user: User, project: Project) -> str | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()


def datasets_for_user(user: User) -> QuerySet[Dataset]:
    return Dataset.objects.filter(project__in=projects_for_user(user)).select_related("project")


def runs_for_user(user: User) -> QuerySet[SegmentationRun]:
    return SegmentationRun.objects.filter(project__in=projects_for_user(user)).select_related(
        "project", "dataset", "version"
    )


def latest_runs(project: Project, limit: int = 20) -> QuerySet[SegmentationRun]:
    return project.runs.select_related("dataset", "version").order_by("-created_at")[:limit]


def project_members(project: Project) -> QuerySet[Membership]:
    """Who works on the project, administrators first, then by name."""
    role_order = {Membership.Role.ADMIN: 0, Membership.Role.CONSULTANT: 1, Membership.Role.REVIEWER: 2}
    return (
        project.memberships.select_related("user")
        .alias(
            rank=Case(
                *(When(role=role, then=Value(rank)) for role, rank in role_order.items()), default=Value(3)
            )
        )
        .order_by("rank", "user__username")
    )
