"""Reads of the reports app."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from projects.selectors import projects_for_user

from .models import Deliverable


def deliverables_skipped(deliverables: Iterable[Deliverable]) -> dict[str, str]:
    """The files a version has no copy of, and why (its manifest says: e.g. a table too large
    for Excel); empty when none was skipped."""
    manifest = next((d for d in deliverables if d.kind == Deliverable.Kind.MANIFEST), None)
    if manifest is None:
        return {}
    with manifest.file.open("rb") as handle:
        skipped = json.loads(handle.read()).get("skipped", {})
    return {str(name): str(reason) for name, reason in skipped.items()} if isinstance(skipped, dict) else {}


def deliverables_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Deliverable]:
    return Deliverable.objects.filter(version__project__in=projects_for_user(user)).select_related(
        "version", "version__project"
    )
