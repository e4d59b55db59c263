"""How a version's segments and a project's columns read to a client: names, actions and labels.

The engine names each segment and suggests actions from the project's vocabulary; before the
version is submitted a consultant may rename segments and rewrite their actions. That is
presentation, stored beside the version (:class:`SegmentPresentation`): the model, the profile
and the version hash never change. Columns read through :func:`feature_label`, the project's own
label (:class:`ColumnLabel`) or the engine's readable form of the name.

Every write is audited and, once committed, announced with
:data:`governance.signals.presentation_changed`, so the layers above rebuild the draft documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from projects import access
from projects.models import Project
from segmentation.explain.names import column_label
from segplatform.errors import ApplicationError

from .lifecycle import version_status
from .models import ColumnLabel, SegmentPresentation, SegmentVersion, VersionStatusChange
from .signals import presentation_changed

MAX_ACTIONS = 8
ACTION_MAX_LENGTH = 300


@dataclass(frozen=True)
class PresentedSegment:
    """One segment as the client reads it, beside what the engine suggested."""

    segment: int
    name: str
    actions: tuple[str, ...]
    suggested_name: str
    suggested_actions: tuple[str, ...]
    edited_by: str = ""
    edited_at: datetime | None = None

    @property
    def renamed(self) -> bool:
        return self.name != self.suggested_name

    @property
    def actions_edited(self) -> bool:
        return self.actions != self.suggested_actions

    @property
    def actions_text(self) -> str:
        return "\n".join(self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "name": self.name,
            "actions": list(self.actions),
            "suggested_name": self.suggested_name,
            "suggested_actions": list(self.suggested_actions),
            "renamed": self.renamed,
            "edited_by": self.edited_by,
            "edited_at": self.edited_at.isoformat() if self.edited_at else None,
        }


def _stored_actions(raw: Any) -> tuple[str, ...]:
    """The profile's actions ("a | b", as the engine stores them, or a list) as separate texts."""
    items = raw.split("|") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return tuple(text for text in (str(item).strip() for item in items) if text)


def presented_segments(version: SegmentVersion) -> list[PresentedSegment]:
    """Every segment of ``version`` in profile order: the stored name and actions where a
    consultant edited them, the engine's suggestion elsewhere."""
    edits = {p.segment: p for p in version.presentations.select_related("edited_by")}
    segments = []
    for position, row in enumerate(version.profile):
        number = int(row.get("segment", position))
        suggested_name = str(row.get("name") or f"Segment {number}")
        suggested_actions = _stored_actions(row.get("actions"))
        edit = edits.get(number)
        segments.append(
            PresentedSegment(
                segment=number,
                name=edit.name if edit else suggested_name,
                actions=tuple(edit.actions) if edit else suggested_actions,
                suggested_name=suggested_name,
                suggested_actions=suggested_actions,
                edited_by=edit.edited_by.get_username() if edit and edit.edited_by else "",
                edited_at=edit.edited_at if edit else None,
            )
        )
    return segments


def presented_profile(version: SegmentVersion) -> list[dict[str, Any]]:
    """The stored profile with each segment's presented name and actions, for documents and
    pages; the stored profile itself is never rewritten."""
    presented = {s.segment: s for s in presented_segments(version)}
    rows = []
    for position, row in enumerate(version.profile):
        segment = presented[int(row.get("segment", position))]
        rows.append({**row, "name": segment.name, "actions": list(segment.actions)})
    return rows


def column_labels(project: Project) -> dict[str, str]:
    """The labels the project gave its columns, by column name."""
    return dict(ColumnLabel.objects.filter(project=project).values_list("column", "label"))


def feature_label(project: Project, column: str, labels: Mapping[str, str] | None = None) -> str:
    """How ``column`` reads to the project's client: its label, or the engine's readable words
    ("MonthlyCharges" reads "Monthly charges"). ``labels`` saves a query per column."""
    labels = column_labels(project) if labels is None else labels
    return labels.get(column) or column_label(column)


def project_columns(project: Project) -> list[str]:
    """Every column of the project's uploads, in the order first seen (the columns one can label)."""
    seen: dict[str, None] = {}
    for dataset in project.datasets.order_by("uploaded_at"):
        for column in dataset.columns:
            if column != dataset.id_column:
                seen.setdefault(column, None)
    return list(seen)


def project_presentation_rows(project: Project) -> list[dict[str, str]]:
    """Each labelable column with its label (blank: none) and the words it reads as without one."""
    labels = column_labels(project)
    return [
        {"column": column, "label": labels.get(column, ""), "default": column_label(column)}
        for column in project_columns(project)
    ]


# -- writes ---------------------------------------------------------------------------------


def _clean_actions(number: int, actions: Sequence[str]) -> list[str]:
    cleaned = [text for text in (str(a).strip() for a in actions) if text]
    if len(cleaned) > MAX_ACTIONS:
        raise ApplicationError(
            f"segment {number} has {len(cleaned)} actions: keep at most {MAX_ACTIONS}",
            field=f"actions_{number}",
        )
    for text in cleaned:
        if len(text) > ACTION_MAX_LENGTH:
            raise ApplicationError(
                f"an action of segment {number} is longer than {ACTION_MAX_LENGTH} characters: shorten it",
                field=f"actions_{number}",
            )
    return cleaned


def _checked_edits(
    version: SegmentVersion, current: list[PresentedSegment], edits: Sequence[Mapping[str, Any]]
) -> dict[int, tuple[str, list[str]]]:
    """The edits by segment number, refused with a message a consultant can act on."""
    known = {s.segment: s for s in current}
    checked: dict[int, tuple[str, list[str]]] = {}
    for edit in edits:
        number = edit.get("segment")
        if not isinstance(number, int) or isinstance(number, bool) or number not in known:
            numbers = ", ".join(str(n) for n in known)
            raise ApplicationError(f"{version.label} has no segment {number}: its segments are {numbers}")
        if number in checked:
            raise ApplicationError(f"segment {number} is named twice in one change: name it once")
        name = " ".join(str(edit.get("name") or "").split())
        if not name:
            raise ApplicationError(
                f"give segment {number} a name: it cannot be blank", field=f"name_{number}"
            )
        if len(name) > SegmentPresentation.NAME_MAX_LENGTH:
            raise ApplicationError(
                f"the name of segment {number} is longer than {SegmentPresentation.NAME_MAX_LENGTH} "
                "characters: shorten it",
                field=f"name_{number}",
            )
        actions = edit.get("actions")
        actions = list(known[number].actions) if actions is None else _clean_actions(number, actions)
        checked[number] = (name, actions)
    # Unique among all the version's segments, edited now or not; case and spacing aside, since
    # "Loyal regulars" and "loyal regulars" cannot be told apart on a slide.
    seen: dict[str, int] = {}
    for segment in current:
        name = checked[segment.segment][0] if segment.segment in checked else segment.name
        key = name.casefold()
        if key in seen:
            # Point at the segment being edited now, where the consultant can change the name.
            blamed = segment.segment if segment.segment in checked else seen[key]
            raise ApplicationError(
                f"Two segments cannot both be called {name}: give each a name of its own",
                field=f"name_{blamed}",
            )
        seen[key] = segment.segment
    return checked


def segment_names_set(
    *,
    version: SegmentVersion,
    segments: Sequence[Mapping[str, Any]],
    user: Any,
    request: HttpRequest | None = None,
) -> list[PresentedSegment]:
    """Rename segments of a draft version and set their actions; return every presented segment.

    A role that may not name segments is refused by :func:`projects.access.require` (403, and
    404 outside the project), as the portal and the API refuse every other action.

    ``segments`` holds ``{"segment": n, "name": "...", "actions": ["..."]}`` (actions left out
    keep the current ones). Refuses a version past draft, an unknown segment, a blank or overlong name, and a name another segment of the version has.
    A name and actions equal to the engine's suggestion drop the edit.
    """
    access.require(user, version.project, "name_segments")
    with transaction.atomic():
        # Serialise with a concurrent rename and with the submission (which also locks the row).
        SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
        status = version_status(version)
        if status != VersionStatusChange.Status.DRAFT:
            label = VersionStatusChange.Status(status).label.lower()
            raise ApplicationError(
                f"{version.label} is {label}: segment names and actions can be changed only while a "
                "version is a draft, before it is submitted for review"
            )
        current = presented_segments(version)
        checked = _checked_edits(version, current, segments)
        by_number = {s.segment: s for s in current}
        renamed, actions_changed = [], []
        for number, (name, actions) in checked.items():
            before = by_number[number]
            if name != before.name:
                renamed.append({"segment": number, "from": before.name, "to": name})
            if tuple(actions) != before.actions:
                actions_changed.append(number)
        if not renamed and not actions_changed:
            return current
        # Delete then create, so two segments may swap names without tripping the constraint.
        SegmentPresentation.objects.filter(version=version, segment__in=list(checked)).delete()
        now = timezone.now()
        SegmentPresentation.objects.bulk_create(
            SegmentPresentation(
                version=version, segment=number, name=name, actions=actions, edited_by=user, edited_at=now
            )
            for number, (name, actions) in checked.items()
            if name != by_number[number].suggested_name
            or tuple(actions) != by_number[number].suggested_actions
        )
        audit_record(
            action="version.rename",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"version": version.label, "renamed": renamed, "actions_changed": actions_changed},
        )
        transaction.on_commit(lambda: presentation_changed.send(sender=None, version=version))
    return presented_segments(version)


def column_labels_set(
    *, project: Project, labels: Mapping[str, str], user: Any, request: HttpRequest | None = None
) -> dict[str, str]:
    """Label the project's columns (a blank label restores the readable name); return all labels.

    Refuses a role that may not label columns (as :func:`segment_names_set`), a column no upload
    of the project has and an overlong label. The drafts of the project's draft versions are rebuilt with the new labels;
    submitted versions keep the documents their reviewer read.
    """
    access.require(user, project, "label_columns")
    known = set(project_columns(project))
    wanted: dict[str, str] = {}
    for column, label in labels.items():
        if column not in known:
            raise ApplicationError(f"no upload of this project has a column '{column}': check its spelling")
        label = " ".join(str(label or "").split())
        if len(label) > ColumnLabel.LABEL_MAX_LENGTH:
            raise ApplicationError(
                f"the label of '{column}' is longer than {ColumnLabel.LABEL_MAX_LENGTH} characters: shorten it"
            )
        wanted[column] = label
    with transaction.atomic():
        before = column_labels(project)
        changes = {
            c: {"from": before.get(c, ""), "to": text}
            for c, text in wanted.items()
            if before.get(c, "") != text
        }
        if not changes:
            return before
        ColumnLabel.objects.filter(project=project, column__in=list(changes)).delete()
        ColumnLabel.objects.bulk_create(
            ColumnLabel(project=project, column=c, label=change["to"])
            for c, change in changes.items()
            if change["to"]
        )
        audit_record(
            action="project.column_label",
            actor=user,
            project=project,
            obj=project,
            request=request,
            details={"labels": changes},
        )
        drafts = [v for v in SegmentVersion.objects.filter(project=project) if version_status(v) == "draft"]
        transaction.on_commit(lambda: [presentation_changed.send(sender=None, version=v) for v in drafts])
    return column_labels(project)
