"""Monitoring a version: current data scored by its frozen model and compared with its reference.

The reference is the customer table the version was built from (its run's dataset, as anonymised
by its privacy review); the current data is uploaded into the same project and anonymised with
the same decisions, so keyed pseudonyms match and customers present in both can be followed.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record
from governance.models import ProjectPolicy, SegmentVersion
from governance.pii_review import default_decisions, privacy_review_confirm
from governance.selectors import version_model
from projects.models import Dataset
from runs.datasets import dataset_upload
from segmentation import SegmentationError
from segmentation.monitoring.levels import Thresholds
from segmentation.monitoring.report import customer_table_for, monitor
from segplatform.errors import ApplicationError

from .alerts import alerts_send
from .models import MonitoringCheck


def current_dataset_upload(
    *,
    version: SegmentVersion,
    name: str,
    content: bytes,
    user: AbstractBaseUser | None,
    actor_name: str = "",
    request: HttpRequest | None = None,
) -> Dataset:
    """Store current data for ``version``'s project, anonymised as the version's own data was."""
    reference = version.run.dataset if version.run is not None else None
    if reference is None:
        raise ApplicationError(f"{version.label} has no run, so there is no reference data to compare with")
    dataset = dataset_upload(
        project=version.project,
        name=name,
        content=content,
        id_column=reference.id_column,
        user=user,
        request=request,
        inline=True,
    )
    review = dataset.privacy_review
    if not review.is_confirmed:
        earlier = getattr(reference, "privacy_review", None)
        chosen = dict(earlier.decisions) if earlier is not None else {}
        decisions = {c: chosen.get(c, d) for c, d in default_decisions(review).items()}
        privacy_review_confirm(
            review=review,
            decisions=decisions,
            quasi_identifiers=list(earlier.quasi_identifiers) if earlier is not None else [],
            sensitive=[],
            user=user,
            request=request,
            actor_name=actor_name,
        )
        dataset.refresh_from_db()
    return dataset


def _thresholds(version: SegmentVersion) -> Thresholds:
    policy = ProjectPolicy.objects.filter(project=version.project).first()
    try:
        return Thresholds.from_dict(policy.monitoring_thresholds if policy is not None else {})
    except SegmentationError as exc:
        raise ApplicationError(f"the project's monitoring policy is wrong: {exc}") from None


def monitoring_check(
    *,
    version: SegmentVersion,
    dataset: Dataset,
    user: AbstractBaseUser | None,
    actor_name: str = "",
    request: HttpRequest | None = None,
) -> MonitoringCheck:
    """Compare ``dataset`` with the version's reference, store the figures and audit the pass."""
    if version.run is None:
        raise ApplicationError(f"{version.label} has no run, so there is no reference data to compare with")
    spec = version.segmentation_spec
    try:
        reference_table = version.run.dataset.read_table()
    except ValueError:  # the file field is empty: purged under retention
        raise ApplicationError(
            f"the data {version.label} was built from has been deleted under retention: "
            "monitoring needs it as the reference; start a new run on current data instead"
        ) from None
    try:
        reference = customer_table_for(reference_table, spec, current=False)
    except SegmentationError as exc:
        raise ApplicationError(f"the reference data of {version.label} cannot be read: {exc}") from None
    try:
        current = customer_table_for(dataset.read_table(), spec, current=True)
        result = monitor(version_model(version), reference, current, thresholds=_thresholds(version))
    except SegmentationError as exc:
        raise ApplicationError(
            f"the current data '{dataset.name}' cannot be compared with {version.label}: {exc}"
        ) from None
    drift = result.to_dict()
    with transaction.atomic():
        check = MonitoringCheck.objects.create(
            version=version,
            dataset=dataset,
            overall_level=result.overall_level,
            result=drift,
            created_by=user,
        )
        audit_record(
            action="version.monitor",
            actor=user,
            actor_name=actor_name,
            project=version.project,
            obj=version,
            request=request,
            details={"check": check.pk, "dataset": dataset.pk, "overall_level": result.overall_level},
        )
    alerts_send(check)  # after the check is stored: a failing channel never loses it
    return check


def _csv(rows: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    return pd.DataFrame(rows, columns=columns).to_csv(index=False).encode()


def monitoring_files(check: MonitoringCheck) -> dict[str, bytes]:
    """``drift.json``, ``segment_shares.csv``, ``migration.csv`` and ``monitoring.pdf`` of a check."""
    from .document import monitoring_pdf

    drift = check.result
    return {
        "drift.json": json.dumps(drift, indent=2, sort_keys=True).encode(),
        "segment_shares.csv": _csv(drift["segment_shares"]["segments"]),
        "migration.csv": _csv(
            drift["migration"]["matrix"], None if drift["migration"]["matrix"] else ["reference_segment"]
        ),
        "monitoring.pdf": monitoring_pdf(check),
    }


def monitoring_file(
    *, check: MonitoringCheck, name: str, user: AbstractBaseUser, request: HttpRequest | None = None
) -> bytes:
    """One file of a check, for download, with an audit event."""
    files = monitoring_files(check)
    if name not in files:
        raise ApplicationError(f"a monitoring check has no file '{name}': choose one of {', '.join(files)}")
    audit_record(
        action="version.monitoring_download",
        actor=user,
        project=check.version.project,
        obj=check.version,
        request=request,
        details={"check": check.pk, "file": name},
    )
    return files[name]
