"""Who may do what on a project: membership roles, with a 404 for anyone outside the project."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership

CONSULTANT = Membership.Role.CONSULTANT
REVIEWER = Membership.Role.REVIEWER
ADMIN = Membership.Role.ADMIN
# Who may take each action, for the portal and the API alike: the services check it.
# Consultants work the data (upload, run, cancel, review personal data, export); reviewers read
# and judge (approve, reject, retire); a project administrator may do both, and alone decides who
# works on the project and in which role.
CAN = {
    "view": {CONSULTANT, REVIEWER, ADMIN},
    "upload": {CONSULTANT, ADMIN},
    "run": {CONSULTANT, ADMIN},
    "cancel": {CONSULTANT, ADMIN},
    "review_pii": {CONSULTANT, ADMIN},
    "submit": {CONSULTANT, ADMIN},
    # Names, actions and column labels are how the consultant presents the work to the client.
    "name_segments": {CONSULTANT, ADMIN},
    "label_columns": {CONSULTANT, ADMIN},
    "approve": {REVIEWER, ADMIN},
    "retire": {REVIEWER, ADMIN},
    # Deploying decides which approved version scores, monitors and refreshes a lineage.
    "deploy": {REVIEWER, ADMIN},
    "export_audit": {REVIEWER, ADMIN},
    "export_records": {CONSULTANT, ADMIN},
    "erase": {CONSULTANT, ADMIN},
    "dp_release": {CONSULTANT, ADMIN},
    "manage_members": {ADMIN},
    # A data source holds the client's database credentials.
    "manage_sources": {ADMIN},
    # Who hears of monitoring levels, and where a webhook posts the project's checks.
    "manage_alerts": {ADMIN},
    "set_industry": {ADMIN},
}


def role_on(user: Any, project: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()


def require(user: Any, project: Any, action: str) -> str:
    """The user's role on the project; 404 for non-members, 403 when the role may not do ``action``."""
    role = role_on(user, project)
    if role is None:
        raise Http404("no such project")
    if role not in CAN[action]:
        raise PermissionDenied(f"a {role} cannot {action.replace('_', ' ')} on this project")
    return role


def allowed(role: str | None, action: str) -> bool:
    return role in CAN[action]
