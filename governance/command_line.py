"""The version a command line names, for the commands that act on one (monitor, experiment)."""

from __future__ import annotations

import re

from projects.services import command_line_project
from segplatform.errors import ApplicationError

from .models import SegmentVersion

VERSION_LABEL = re.compile(r"^v(\d+)$")


def version_for_command_line(identifier: str, project_name: str | None) -> SegmentVersion:
    """The version a command line names: the ``version_id`` of its ``manifest.json`` (``v3``) in
    ``project_name`` (default: the project ``manage.py segment`` files its runs under), or its
    ``version_hash``."""
    match = VERSION_LABEL.match(identifier.strip())
    if match is None:
        version = SegmentVersion.objects.filter(version_hash=identifier.strip()).first()
        if version is None:
            raise ApplicationError(
                f"no version has the id or hash '{identifier}': give the version_id of its manifest.json"
            )
        return version
    project = command_line_project(project_name)
    version = SegmentVersion.objects.filter(project=project, number=int(match.group(1))).first()
    if version is None:
        raise ApplicationError(
            f"project '{project.name}' has no version {identifier}: name its project with --project, "
            "or give the version_hash"
        )
    return version
