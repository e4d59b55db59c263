"""The record-level export: labels joined with quasi-identifiers, gated by the project's k."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.services import audit_record
from governance.models import PrivacyReview
from governance.pii_review import policy_for
from segmentation import SegmentationError, read_csv_bytes
from segmentation.protection.generalise import generalise
from segmentation.protection.risk import privacy_report
from segplatform.errors import ApplicationError

from .services import deliverable_read
from .tables import csv_bytes


def record_export(
    *,
    version: Any,
    user: AbstractBaseUser | None,
    quasi_identifiers: list[str] | None = None,
    generalise_to_k: bool = False,
    request: HttpRequest | None = None,
) -> bytes:
    """Labels joined with the quasi-identifiers, as CSV: refused below the project's k.

    With ``generalise_to_k``, the quasi-identifiers are first coarsened (the least-loss levels of
    their default hierarchies found by the lattice search, then suppression of at most 5% of
    rows) to reach the project's k; what was done is recorded in the audit event.
    """
    run = version.run
    if run is None:
        raise ApplicationError("this version has no run, so no customer table to join")
    dataset = run.dataset
    review = PrivacyReview.objects.filter(dataset=dataset).first()
    quasi = (
        quasi_identifiers if quasi_identifiers is not None else (review.quasi_identifiers if review else [])
    )
    missing = [c for c in quasi if c not in dataset.columns]
    if not quasi or missing:
        raise ApplicationError(
            "name the quasi-identifiers to export (columns of the anonymised table)"
            + (f": no column(s) {', '.join(missing)}" if missing else ""),
            field="quasi_identifiers",
        )
    labels_file = version.deliverables.filter(kind="labels.csv").first()
    if labels_file is None or not dataset.file:
        raise ApplicationError(
            f"{version.label}'s labels or customer table were deleted under the retention policy: "
            "nothing to export"
        )
    labels = read_csv_bytes(deliverable_read(deliverable=labels_file, audit=False), name="labels.csv")
    table = dataset.read_table()
    joined = labels.merge(
        table[[dataset.id_column, *quasi]].rename(columns={dataset.id_column: "customer_id"}),
        on="customer_id",
        how="left",
    )
    target = policy_for(version.project).target_k
    generalisation: dict[str, Any] = {}
    if generalise_to_k:
        try:
            result = generalise(joined, quasi, k=target)
        except SegmentationError as exc:
            raise ApplicationError(str(exc), field="quasi_identifiers") from None
        joined = result.frame
        generalisation = {
            "levels": result.levels,
            "suppressed_rows": result.suppressed_rows,
            "information_loss": result.information_loss,
        }
    k = privacy_report(joined, quasi).k_anonymity if len(joined) else 0
    if k < target:
        audit_record(
            action="export.refused",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"quasi_identifiers": quasi, "k": k, "target_k": target},
        )
        raise ApplicationError(
            f"the export would be {k}-anonymous on {', '.join(quasi)}, below this project's k of "
            f"{target}: drop quasi-identifiers, or tick 'generalise to reach k' and try again",
            field="quasi_identifiers",
        )
    audit_record(
        action="export.records",
        actor=user,
        project=version.project,
        obj=version,
        request=request,
        details={"quasi_identifiers": quasi, "k": k, "rows": len(joined), **generalisation},
    )
    return csv_bytes(joined)
