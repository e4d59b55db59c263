"""A version's lifecycle: draft → in review → approved → retired (or rejected, then resubmitted).

Versions are immutable, so each step is a new row of ``VersionStatusChange``; the latest row is
the current status. A reviewer approves or rejects, never the version's author.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record
from projects import access
from segplatform.errors import ApplicationError

from .models import SegmentVersion, VersionStatusChange
from .signals import version_approved

Status = VersionStatusChange.Status
# (action, allowed from, to, permission)
TRANSITIONS = {
    "submit": ({Status.DRAFT, Status.REJECTED}, Status.IN_REVIEW, "submit"),
    "approve": ({Status.IN_REVIEW}, Status.APPROVED, "approve"),
    "reject": ({Status.IN_REVIEW}, Status.REJECTED, "approve"),
    "retire": ({Status.APPROVED}, Status.RETIRED, "retire"),
}
# Maker-checker: nobody reviews their own work.
SELF_REVIEW_FORBIDDEN = ("approve", "reject")


def version_status(version: SegmentVersion) -> str:
    """The current status: the latest recorded step, or draft when there is none."""
    latest = version.status_changes.order_by("-created_at", "-id").values_list("status", flat=True).first()
    return latest or Status.DRAFT


def version_authors(version: SegmentVersion) -> set[int]:
    """Who made the version: its creator and whoever started its run."""
    authors = {version.created_by_id}
    if version.run is not None:
        authors.add(version.run.created_by_id)
    return {a for a in authors if a is not None}


def version_actions(version: SegmentVersion, user: Any) -> set[str]:
    """The lifecycle actions ``user`` may take on ``version`` now, by the same rules as the steps."""
    role = access.role_on(user, version.project)
    current = version_status(version)
    is_author = user.pk in version_authors(version)
    return {
        action
        for action, (allowed_from, _, permission) in TRANSITIONS.items()
        if current in allowed_from
        and access.allowed(role, permission)
        and not (action in SELF_REVIEW_FORBIDDEN and is_author)
    }


def version_needs_override(version: SegmentVersion) -> bool:
    """True when the structure test found no more structure than random data in the version's
    customers: approving it goes against the platform's recommendation and needs a reason."""
    return version.metrics_view.structure.recommends_none


def version_transition(
    *,
    version: SegmentVersion,
    action: str,
    user: Any,
    reason: str,
    request: HttpRequest | None = None,
    override_reason: str = "",
) -> VersionStatusChange:
    """Move a version one step along its lifecycle, recording who, when and why.

    Refuses an unknown action, a step the current status does not allow, a user whose role on
    the project may not take it, an approval or rejection by the version's author, a
    rejection or retirement without a reason, and the approval of a version the structure test
    recommends against (:func:`version_needs_override`) without an ``override_reason``, which is
    audited as its own event.
    """
    if action not in TRANSITIONS:
        raise ApplicationError(f"'{action}' is not a lifecycle action")
    allowed_from, target, permission = TRANSITIONS[action]
    role = access.role_on(user, version.project)
    if not access.allowed(role, permission):
        raise ApplicationError(f"only a {' or '.join(sorted(access.CAN[permission]))} may {action} a version")
    reason = (reason or "").strip()
    if action in ("reject", "retire") and not reason:
        raise ApplicationError(f"say why you {action} this version", field="reason")
    override_reason = (override_reason or "").strip()
    overriding = action == "approve" and version_needs_override(version)
    if overriding and not override_reason:
        raise ApplicationError(
            f"{version.label} is not recommended for segmentation: its customers show no more "
            "structure than random data of the same shape. To approve it anyway, give an override "
            "reason saying why the groups are still worth using",
            field="override_reason",
        )
    if action in SELF_REVIEW_FORBIDDEN and user.pk in version_authors(version):
        raise ApplicationError(
            f"you made {version.label}: another reviewer must {action} it (nobody reviews their own work)"
        )
    with transaction.atomic():
        # Serialise concurrent steps on the same version (the row itself is never updated).
        SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
        current = version_status(version)
        if current not in allowed_from:
            raise ApplicationError(
                f"{version.label} is {Status(current).label.lower()}: it cannot be {action}d now"
                if action != "submit"
                else f"{version.label} is {Status(current).label.lower()}: only a draft or rejected version can be submitted"
            )
        change = VersionStatusChange.objects.create(version=version, status=target, actor=user, reason=reason)
        audit_record(
            action=f"version.{action}",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"version": version.label, "from": current, "to": target, "reason": reason},
        )
        if overriding:
            audit_record(
                action="version.structure_override",
                actor=user,
                project=version.project,
                obj=version,
                request=request,
                details={
                    "version": version.label,
                    "verdict": version.metrics_view.structure.verdict,
                    "override_reason": override_reason,
                },
            )
        if action == "approve":
            transaction.on_commit(lambda: version_approved.send(sender=None, version=version, change=change))
    return change
