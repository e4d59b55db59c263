"""Writes of the projects app: clients, projects and who works on them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audit.services import audit_record
from segplatform.errors import ApplicationError

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
        Membership.objects.create(user=user, project=project, role=Membership.Role.CONSULTANT)
    audit_record(action="project.create", actor=user, project=project, obj=project, details={"name": name})
    return project


def membership_add(*, project: Project, user: AbstractBaseUser, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
    return membership


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
