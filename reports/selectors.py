"""Reads of the reports app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from projects.selectors import projects_for_user

from .models import Deliverable


def deliverables_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Deliverable]:
    return Deliverable.objects.filter(version__project__in=projects_for_user(user)).select_related(
        "version", "version__project"
    )
