"""The approved edition: the deck and report rebuilt to say who approved the version and when,
and the approved pack, one ZIP of every file a client receives with a manifest of hashes
(:func:`pack_bytes`, also the writer of ``reports.bundle``'s every-deliverable ZIP).

Governance announces an approval with :data:`governance.signals.version_approved` once it has
committed; the drafts stay as they were, since they are part of the record of what was reviewed.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from audit.services import audit_record
from governance.dp_policy import dp_withheld_reason
from governance.dp_release import dp_release_files
from governance.lifecycle import version_status
from governance.models import SegmentVersion, VersionStatusChange
from governance.signals import version_approved
from segplatform.errors import ApplicationError

from .models import Deliverable
from .services import deliverable_read, deliverable_store, document_bytes, version_content

logger = logging.getLogger(__name__)

APPROVED_DECK = "deck-approved.pptx"
APPROVED_REPORT = "report-approved.pdf"
APPROVED_KINDS = (APPROVED_DECK, APPROVED_REPORT)
# The drafts are replaced by the approved edition in the pack; the version's own manifest is
# left out because MANIFEST.json describes the pack (and the two names clash on Windows and macOS).
LEFT_OUT_OF_PACK = ("deck.pptx", "report.pdf", "manifest.json")
PACK_MANIFEST = "MANIFEST.json"


@receiver(version_approved)
def build_on_approval(
    sender: Any, version: SegmentVersion, change: VersionStatusChange, **kwargs: Any
) -> None:
    """Build the approved edition right after the approval committed.

    A failure here must not undo or hide the approval: it is logged, and the pack's download
    builds the edition then (see :func:`approved_pack`).
    """
    try:
        approved_edition_build(version=version, change=change)
    except Exception:  # the approval stands; the download retries the build
        logger.exception("could not build the approved edition of %s", version)


def _approval_change(version: SegmentVersion) -> VersionStatusChange | None:
    return (
        VersionStatusChange.objects.filter(version=version, status=VersionStatusChange.Status.APPROVED)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def approval_values(change: VersionStatusChange) -> dict[str, Any]:
    approver = change.actor.get_username() if change.actor is not None else "a reviewer"
    return {"approver": approver, "at": change.created_at}


@transaction.atomic
def approved_edition_build(*, version: SegmentVersion, change: VersionStatusChange) -> list[Deliverable]:
    """Write ``deck-approved.pptx`` and ``report-approved.pdf`` for an approved version, audited.

    Idempotent: a version that already has its approved edition keeps it unchanged.
    """
    from .deck import build_deck
    from .pdf import build_report_pdf

    # Serialise with a concurrent build (the approval's receiver and a first download).
    SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
    existing = list(Deliverable.objects.filter(version=version, kind__in=APPROVED_KINDS))
    if len(existing) == len(APPROVED_KINDS):
        return existing
    Deliverable.objects.filter(pk__in=[d.pk for d in existing]).delete()
    approval = approval_values(change)
    content = version_content(version, approval)
    built = [
        deliverable_store(version, APPROVED_DECK, document_bytes(build_deck, content)),
        deliverable_store(version, APPROVED_REPORT, document_bytes(build_report_pdf, content)),
    ]
    audit_record(
        action="deliverable.approved_edition",
        actor_name="platform",
        project=version.project,
        obj=version,
        details={
            "version": version.label,
            "approved_by": approval["approver"],
            "approved_at": approval["at"].isoformat(),
            "files": {d.kind: d.sha256 for d in built},
        },
    )
    return built


def approved_pack_name(version: SegmentVersion) -> str:
    return f"{version.project.name}-{version.label}-approved.zip"


def approved_pack(*, version: SegmentVersion, user: Any, request: HttpRequest | None = None) -> bytes:
    """The approved pack as ZIP bytes, with an audit event for the download.

    Refuses a version that is not approved now (a draft, one in review, rejected or retired).
    """
    status = version_status(version)
    if status != VersionStatusChange.Status.APPROVED:
        label = VersionStatusChange.Status(status).label.lower()
        raise ApplicationError(
            f"{version.label} is {label}, not approved: the approved pack exists only for an approved "
            "version. Download the draft files one by one, or ask a reviewer to approve the version."
        )
    change = _approval_change(version)
    assert change is not None  # the status says approved, so the step is recorded
    approved_edition_build(version=version, change=change)
    files = {
        d.kind: deliverable_read(deliverable=d, audit=False)
        for d in version.deliverables.order_by("kind")
        if d.kind not in LEFT_OUT_OF_PACK and not dp_withheld_reason(version, d.kind)
    }
    files.update(dp_release_files(version))
    approval = approval_values(change)
    manifest = {
        **version_identity(version),
        "approved_by": approval["approver"],
        "approved_at": approval["at"].isoformat(),
    }
    return pack_download(version, files, manifest, kind="approved.zip", user=user, request=request)


def version_identity(version: SegmentVersion) -> dict[str, Any]:
    """What names a version in a pack's manifest: its label, hashes, project and client."""
    return {
        "version_id": version.label,
        "version_hash": version.version_hash,
        "project": version.project.name,
        "client": version.project.client.name,
        "model_sha256": version.model_sha256,
        "data_sha256": version.data_sha256,
    }


def pack_download(
    version: SegmentVersion,
    files: dict[str, bytes],
    manifest: dict[str, Any],
    *,
    kind: str,
    user: Any,
    request: HttpRequest | None,
    left_out: list[str] | None = None,
) -> bytes:
    """A user's download of a pack: its bytes (:func:`pack_bytes`), audited as one download that
    names the files it holds and, when some were left out, those."""
    pack = pack_bytes(files, manifest)
    details: dict[str, Any] = {"kind": kind, "version": version.label, "files": sorted(files)}
    if left_out is not None:
        details["left_out"] = sorted(left_out)
    audit_record(
        action="deliverable.download",
        actor=user,
        project=version.project,
        obj=version,
        request=request,
        details=details,
    )
    return pack


def pack_bytes(files: dict[str, bytes], manifest: dict[str, Any]) -> bytes:
    """A ZIP of ``files`` with ``MANIFEST.json``: ``manifest`` plus each file's SHA-256 and size.

    The one way a pack is written (the approved pack, every deliverable at once), so a client
    checks any of them the same way.
    """
    listed = {
        **manifest,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        },
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
        archive.writestr(PACK_MANIFEST, json.dumps(listed, indent=2, sort_keys=True) + "\n")
    return out.getvalue()
