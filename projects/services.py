"""Writes of the projects app: clients, projects and who works on them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record
from segplatform.errors import ApplicationError

from . import access
from .models import Client, Membership, Project

COMMAND_LINE_CLIENT = "Command line"
COMMAND_LINE_PROJECT = "Local command-line runs"


def client_get_or_create(*, name: str) -> Client:
    client, _ = Client.objects.get_or_create(name=name.strip())
    return client


@transaction.atomic
def project_create(
    *, client: Client, name: str, user: AbstractBaseUser | None, description: str = ""
) -> Project:
    name = name.strip()
    if not name:
        raise ApplicationError("a project needs a name", field="name")
    if Project.objects.filter(client=client, name=name).exists():
        raise ApplicationError(f"{client.name} already has a project named '{name}'", field="name")
    project = Project.objects.create(client=client, name=name, description=description, created_by=user)
    if user is not None:
        # The creator administers the project: someone must be able to invite the team, and the
        # role table lets an administrator do all a consultant does, so the creator loses nothing.
        Membership.objects.create(user=user, project=project, role=Membership.Role.ADMIN)
    audit_record(action="project.create", actor=user, project=project, obj=project, details={"name": name})
    return project


def membership_add(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    """Set a role directly, outside the role table and the audit trail: for fixtures and commands
    run by an operator. People change memberships through ``member_invite`` and its siblings."""
    membership, _ = Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
    return membership


ROLE_NAMES = ", ".join(Membership.Role.values[:-1]) + " or " + Membership.Role.values[-1]


def _role_checked(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in Membership.Role.values:
        shown = f"'{role}' is not a role" if role else "a member needs a role"
        raise ApplicationError(f"{shown} on a project: choose {ROLE_NAMES}", field="role")
    return role


def _user_found(username_or_email: str) -> Any:
    """The one active user with this username, else with this e-mail address (case ignored)."""
    wanted = (username_or_email or "").strip()
    if not wanted:
        raise ApplicationError("say whom to invite: their username or e-mail address", field="user")
    users = get_user_model().objects.filter(is_active=True)
    exact = users.filter(username=wanted).first()
    if exact is not None:
        return exact
    by_name = list(users.filter(username__iexact=wanted)[:2])
    if len(by_name) == 1:
        return by_name[0]
    by_email = list(users.filter(email__iexact=wanted)[:2])
    if len(by_email) == 1:
        return by_email[0]
    if len(by_email) > 1:
        raise ApplicationError(
            f"several users have the e-mail address '{wanted}': invite one of them by username", field="user"
        )
    raise ApplicationError(
        f"no user has the username or e-mail address '{wanted}': check the spelling, or ask a platform "
        "administrator to create the account first (invitations are for existing users)",
        field="user",
    )


def _locked(project: Project) -> None:
    """Serialise membership changes of one project, taken before the role check: two administrators
    demoting each other at once cannot both pass the last-administrator check, and one demoted a
    moment ago is no longer an administrator."""
    Project.objects.select_for_update().filter(pk=project.pk).first()


def _membership_of(project: Project, user: AbstractBaseUser) -> Membership:
    membership = Membership.objects.filter(project=project, user=user).select_related("user").first()
    if membership is None:
        raise ApplicationError(f"{user.get_username()} is not a member of this project", field="user")
    return membership


def _keep_an_administrator(membership: Membership, change: str) -> None:
    if membership.role != Membership.Role.ADMIN:
        return
    others = Membership.objects.filter(project_id=membership.project_id, role=Membership.Role.ADMIN)
    if not others.exclude(pk=membership.pk).exists():
        raise ApplicationError(
            f"{membership.user.get_username()} is the project's last administrator and cannot be {change}: "
            "make another member an administrator first",
            field="role" if change == "demoted" else None,
        )


@transaction.atomic
def member_invite(
    *,
    project: Project,
    actor: AbstractBaseUser,
    username_or_email: str,
    role: str,
    request: HttpRequest | None = None,
) -> Membership:
    """Add an existing user to the project in a role (project administrators only).

    Refuses an unknown or ambiguous user, someone already a member, and a role that does not exist.
    """
    _locked(project)
    access.require(actor, project, "manage_members")
    role = _role_checked(role)
    user = _user_found(username_or_email)
    current = Membership.objects.filter(project=project, user=user).first()
    if current is not None:
        raise ApplicationError(
            f"{user.get_username()} is already a member of this project ({current.get_role_display()}): "
            "change their role in the members list instead",
            field="user",
        )
    membership = Membership.objects.create(project=project, user=user, role=role)
    audit_record(
        action="membership.add",
        actor=actor,
        project=project,
        obj=membership,
        details={"user": user.get_username(), "role": role},
        request=request,
    )
    return membership


@transaction.atomic
def member_role_set(
    *,
    project: Project,
    actor: AbstractBaseUser,
    user: AbstractBaseUser,
    role: str,
    request: HttpRequest | None = None,
) -> Membership:
    """Change a member's role (project administrators only); the same role again changes nothing.

    Refuses a role that does not exist and demoting the project's last administrator.
    """
    _locked(project)
    access.require(actor, project, "manage_members")
    role = _role_checked(role)
    membership = _membership_of(project, user)
    previous = membership.role
    if previous == role:
        return membership
    _keep_an_administrator(membership, "demoted")
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="membership.role_change",
        actor=actor,
        project=project,
        obj=membership,
        details={"user": user.get_username(), "from": previous, "to": role},
        request=request,
    )
    return membership


@transaction.atomic
def member_remove(
    *, project: Project, actor: AbstractBaseUser, user: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    """Take a member off the project (project administrators only), never its last administrator."""
    _locked(project)
    access.require(actor, project, "manage_members")
    membership = _membership_of(project, user)
    _keep_an_administrator(membership, "removed")
    audit_record(
        action="membership.remove",
        actor=actor,
        project=project,
        obj=membership,
        details={"user": user.get_username(), "role": membership.role},
        request=request,
    )
    membership.delete()


def command_line_project(name: str | None) -> Project:
    """The project a command-line run is filed under, created on first use."""
    if name:
        existing = Project.objects.filter(name=name).order_by("pk").first()
        if existing is not None:
            return existing
    client = client_get_or_create(name=COMMAND_LINE_CLIENT)
    project, created = Project.objects.get_or_create(client=client, name=name or COMMAND_LINE_PROJECT)
    if created:
        audit_record(action="project.create", actor_name="command line", project=project, obj=project)
    return project


@transaction.atomic
def membership_staff_save(
    *, membership: Membership, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> Membership:
    """Save a membership staff edited on the admin site, audited as the members page audits.

    Staff act outside the role table (they repair projects, e.g. one whose administrators left).
    """
    previous = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    membership.save()
    details = {"user": membership.user.get_username(), "via": "admin site"}
    if previous is None:
        action, details["role"] = "membership.add", membership.role
    elif previous != membership.role:
        action, details["from"], details["to"] = "membership.role_change", previous, membership.role
    else:
        return membership
    audit_record(
        action=action,
        actor=actor,
        project=membership.project,
        obj=membership,
        details=details,
        request=request,
    )
    return membership


@transaction.atomic
def membership_staff_delete(
    *, membership: Membership, actor: AbstractBaseUser, request: HttpRequest | None = None
) -> None:
    details = {"user": membership.user.get_username(), "role": membership.role, "via": "admin site"}
    audit_record(
        action="membership.remove",
        actor=actor,
        project=membership.project,
        obj=membership,
        details=details,
        request=request,
    )
    membership.delete()


def project_industry_set(
    *, project: Project, industry: str, user: Any, request: HttpRequest | None = None
) -> Project:
    """Choose the vocabulary the project's next runs name segments in (a run may still pick
    another); versions already made keep their words. Administrators only."""
    from segmentation.explain.vocabulary import INDUSTRY_LABELS

    if not access.allowed(access.role_on(user, project), "set_industry"):
        raise ApplicationError("only a project administrator may choose the project's industry")
    industry = (industry or "").strip()
    if industry not in INDUSTRY_LABELS:
        raise ApplicationError(
            f"'{industry}' is not an industry: choose {', '.join(INDUSTRY_LABELS)}", field="industry"
        )
    if industry == project.industry:
        return project
    with transaction.atomic():
        before = project.industry
        Project.objects.filter(pk=project.pk).update(industry=industry)
        project.industry = industry
        audit_record(
            action="project.industry",
            actor=user,
            project=project,
            obj=project,
            request=request,
            details={"from": before, "to": industry},
        )
    return project
