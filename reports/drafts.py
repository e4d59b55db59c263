"""The draft deck and report follow the version's presentation: rebuilt when a consultant renames
segments, edits their actions or relabels the project's columns.

Governance announces such a change with :data:`governance.signals.presentation_changed` once it
has committed. Only the two documents and the manifest's entries for them change; the data files
are the run's, and the approved edition is built from the presentation at approval.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from governance.erasure import rewrite_file
from governance.models import SegmentVersion
from governance.signals import presentation_changed

from .models import Deliverable
from .services import document_bytes, version_content

logger = logging.getLogger(__name__)

DRAFT_DOCUMENTS = (Deliverable.Kind.DECK, "report.pdf")


@receiver(presentation_changed)
def rebuild_on_presentation_change(sender: Any, version: SegmentVersion, **kwargs: Any) -> None:
    """A failure must not undo the rename, which has committed: it is logged, and the next
    rename or relabel rebuilds the drafts."""
    try:
        drafts_rebuild(version=version)
    except Exception:  # the rename stands
        logger.exception("could not rebuild the draft documents of %s", version)


@transaction.atomic
def drafts_rebuild(*, version: SegmentVersion) -> list[Deliverable]:
    """Rebuild ``deck.pptx`` and ``report.pdf`` from the version's current presentation, and
    record their new hashes in the manifest. A version without drafts (made before documents
    existed) is left alone."""
    from .deck import build_deck
    from .pdf import build_report_pdf

    # Serialise with a concurrent rebuild and with the approved edition's build.
    SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
    drafts = {d.kind: d for d in Deliverable.objects.filter(version=version, kind__in=DRAFT_DOCUMENTS)}
    if not drafts:
        return []
    content = version_content(version)
    builders = {Deliverable.Kind.DECK: build_deck, "report.pdf": build_report_pdf}
    hashes = {}
    for kind, deliverable in drafts.items():
        data = document_bytes(builders[kind], content)
        rewrite_file(deliverable.file, data, kind)
        sha = hashlib.sha256(data).hexdigest()
        Deliverable.objects.filter(pk=deliverable.pk).update(
            file=deliverable.file.name, sha256=sha, size_bytes=len(data)
        )
        hashes[kind] = {"sha256": sha, "bytes": len(data)}
    _manifest_update(version, hashes)
    return list(Deliverable.objects.filter(version=version, kind__in=DRAFT_DOCUMENTS))


def _manifest_update(version: SegmentVersion, hashes: dict[str, dict[str, Any]]) -> None:
    manifest = Deliverable.objects.filter(version=version, kind=Deliverable.Kind.MANIFEST).first()
    if manifest is None:
        return
    with manifest.file.open("rb") as handle:
        content = json.loads(handle.read())
    content["files"].update(hashes)
    raw = (json.dumps(content, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n").encode()
    rewrite_file(manifest.file, raw, manifest.kind)
    Deliverable.objects.filter(pk=manifest.pk).update(
        file=manifest.file.name, sha256=hashlib.sha256(raw).hexdigest(), size_bytes=len(raw)
    )
