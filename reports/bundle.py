"""Every deliverable of a version in one ZIP, as far as the user's role may download each file.

Whatever the version's status (a draft is labelled a draft in its own deck and report), the ZIP
holds the version's files as stored (deck, report, scorers, rules, labels, profile, bias…),
plus the record-level export when the user's role may export records and the project's k
allows it. ``MANIFEST.json`` lists each file's SHA-256 and says what was left out and why. It is
written by :func:`reports.approved.pack_bytes`, the approved pack's writer.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from governance.dp_policy import dp_withheld_reason
from governance.dp_release import dp_release_files
from governance.lifecycle import version_status
from governance.models import SegmentVersion
from projects import access
from segplatform.errors import ApplicationError

from .approved import pack_download, version_identity
from .records import record_export
from .selectors import deliverables_skipped
from .services import deliverable_read

BUNDLE = "deliverables.zip"
RECORDS = "records.csv"
# The version's own manifest.json is left out: MANIFEST.json describes the ZIP, and the two
# names clash on case-insensitive file systems.
LEFT_OUT = ("manifest.json",)


def bundle_name(version: SegmentVersion) -> str:
    return f"{version.project.name}-{version.label}-{BUNDLE}"


def deliverables_bundle(*, version: SegmentVersion, user: Any, request: HttpRequest | None = None) -> bytes:
    """The ZIP bytes, with one audit event naming every file it holds and every file left out.

    Refuses a user who may not view the project (404, as for each file).
    """
    role = access.require(user, version.project, "view")
    deliverables = list(version.deliverables.order_by("kind"))
    left_out = dict(deliverables_skipped(deliverables))
    withheld = {d.kind: dp_withheld_reason(version, d.kind) for d in deliverables}
    left_out.update({kind: reason for kind, reason in withheld.items() if reason})
    files = {
        d.kind: deliverable_read(deliverable=d, audit=False)
        for d in deliverables
        if d.kind not in LEFT_OUT and not withheld[d.kind]
    }
    files.update(dp_release_files(version))
    if access.allowed(role, "export_records"):
        try:
            files[RECORDS] = record_export(version=version, user=user, request=request)
        except ApplicationError as exc:
            left_out[RECORDS] = f"the record-level export was not included: {exc.message}"
    else:
        left_out[RECORDS] = (
            f"the record-level export is not included: a {role} may not export customer records "
            "on this project"
        )
    manifest = {**version_identity(version), "status": version_status(version), "left_out": left_out}
    return pack_download(
        version, files, manifest, kind=BUNDLE, user=user, request=request, left_out=list(left_out)
    )
