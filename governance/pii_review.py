"""Services of the privacy review: the project's key, detecting PII on upload, confirming the
consultant's decisions, and the run gate.

Until a review is confirmed, the dataset's file is the raw upload (encrypted at rest) and no run
may read it. Confirming rewrites the file anonymised and deletes the raw bytes, unless the
project keeps raw uploads for a while, in which case they are set aside with a deletion date.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from segmentation import SegmentationError, read_input
from segmentation.protection.pii import ACTIONS, LABELS, anonymise, detect
from segmentation.protection.risk import privacy_report, suggest_quasi_identifiers
from segplatform.errors import ApplicationError
from segplatform.storage import fernet

from .models import PrivacyReview, ProjectPolicy

IDENTIFIER_KINDS_PSEUDONYMISED = ("email", "phone")


def policy_for(project: Any) -> ProjectPolicy:
    """The project's policy, created with a fresh random pseudonymisation key on first use."""
    policy = ProjectPolicy.objects.filter(project=project).first()
    if policy is None:
        token = fernet().encrypt(os.urandom(32)).decode()
        policy, _ = ProjectPolicy.objects.get_or_create(
            project=project, defaults={"pseudonym_key_encrypted": token}
        )
    return policy


def project_key(project: Any) -> bytes:
    """The project's HMAC key in clear, for pseudonymising; never displayed or logged."""
    return fernet().decrypt(policy_for(project).pseudonym_key_encrypted.encode())


def privacy_review_open(*, dataset: Any, frame: pd.DataFrame) -> PrivacyReview:
    """Detect direct identifiers in a fresh upload and open its review.

    A table where nothing is detected needs no decision: its review is confirmed at once (the
    consultant can still see what was checked), so ordinary data flows straight to a run.
    """
    findings = detect(frame, id_column=dataset.id_column)
    suggested = [c for c in suggest_quasi_identifiers(list(frame.columns)) if c != dataset.id_column]
    review = PrivacyReview.objects.create(
        dataset=dataset,
        findings=[f.to_dict() for f in findings],
        suggested_quasi_identifiers=suggested,
        quasi_identifiers=suggested,
        status=PrivacyReview.Status.PENDING if findings else PrivacyReview.Status.CONFIRMED,
        confirmed_at=None if findings else timezone.now(),
    )
    if not findings and suggested:
        review.risk = _risk(frame, suggested, [])
        PrivacyReview.objects.filter(pk=review.pk).update(risk=review.risk)
    audit_record(
        action="pii.detect",
        actor_name="system",
        project=dataset.project,
        obj=dataset,
        details={"columns": {f.column: f.kind for f in findings}, "quasi_identifiers": suggested},
    )
    return review


def _risk(frame: pd.DataFrame, quasi: list[str], sensitive: list[str]) -> dict[str, Any]:
    present = [c for c in quasi if c in frame.columns]
    if not present:
        return {}
    report = privacy_report(frame, present, [c for c in sensitive if c in frame.columns])
    return report.to_dict()


def default_decisions(review: PrivacyReview) -> dict[str, dict[str, str]]:
    return {f["column"]: {"action": f["suggested_action"], "kind": f["kind"]} for f in review.findings}


def privacy_review_confirm(
    *,
    review: PrivacyReview,
    decisions: dict[str, dict[str, str]],
    quasi_identifiers: list[str],
    sensitive: list[str],
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    actor_name: str = "",
) -> PrivacyReview:
    """Apply the consultant's decisions: rewrite the dataset anonymised and drop the raw bytes.

    Refuses: a review already confirmed, an unknown column or action, keeping or masking the
    id column when it is itself an e-mail address or phone number, or dropping the id column.
    """
    dataset = review.dataset
    if review.is_confirmed:
        raise ApplicationError("this upload's privacy review is already confirmed")
    _check_decisions(review, decisions, quasi_identifiers, sensitive)
    with dataset.file.open("rb") as handle:
        raw = handle.read()
    try:
        frame = read_input(raw, name=f"'{dataset.name}'")
        clean = anonymise(frame, decisions, key=project_key(dataset.project))
    except SegmentationError as exc:
        raise ApplicationError(str(exc)) from None
    policy = policy_for(dataset.project)
    old_name = dataset.file.name
    id_decision = decisions.get(dataset.id_column, {})
    with transaction.atomic():
        dataset.file.save(f"{dataset.sha256[:16]}.csv", ContentFile(csv_bytes(clean)), save=False)
        dataset.schema = [c for c in dataset.schema if c["name"] in clean.columns]
        type(dataset).objects.filter(pk=dataset.pk).update(file=dataset.file.name, schema=dataset.schema)
        review.decisions = decisions
        review.quasi_identifiers = quasi_identifiers
        review.sensitive = sensitive
        review.risk = _risk(clean, quasi_identifiers, sensitive)
        review.id_pseudonymised = id_decision.get("action") == "pseudonymise"
        review.status = PrivacyReview.Status.CONFIRMED
        review.confirmed_by = user
        review.confirmed_at = timezone.now()
        if policy.keep_raw_days:
            review.raw_file.save(f"{dataset.project_id}-{dataset.pk}.csv", ContentFile(raw), save=False)
            review.raw_delete_after = timezone.now() + timedelta(days=policy.keep_raw_days)
        review.save()
        audit_record(
            action="pii.confirm",
            actor=user,
            actor_name=actor_name,
            project=dataset.project,
            obj=dataset,
            request=request,
            details={
                "decisions": {c: d["action"] for c, d in decisions.items()},
                "quasi_identifiers": quasi_identifiers,
                "sensitive": sensitive,
                "k_anonymity": review.risk.get("k_anonymity"),
                "raw_kept_days": policy.keep_raw_days,
            },
        )
        # The raw bytes go only once the anonymised file is safely recorded.
        transaction.on_commit(lambda: dataset.file.storage.delete(old_name))
    return review


def _check_decisions(
    review: PrivacyReview, decisions: dict[str, dict[str, str]], quasi: list[str], sensitive: list[str]
) -> None:
    dataset = review.dataset
    columns = set(dataset.columns)
    for column, decision in decisions.items():
        if column not in columns:
            raise ApplicationError(f"'{dataset.name}' has no column '{column}'", field="decisions")
        if decision.get("action") not in ACTIONS:
            raise ApplicationError(f"choose what to do with '{column}'", field="decisions")
        if decision.get("kind") and decision["kind"] not in LABELS:
            raise ApplicationError(f"'{decision['kind']}' is not a kind of identifier", field="decisions")
    id_decision = decisions.get(dataset.id_column)
    if id_decision:
        if id_decision["action"] == "drop":
            raise ApplicationError(
                f"'{dataset.id_column}' is the id column: pseudonymise it instead of dropping it, "
                "or the labels cannot be joined back",
                field="decisions",
            )
        if (
            id_decision.get("kind") in IDENTIFIER_KINDS_PSEUDONYMISED
            and id_decision["action"] != "pseudonymise"
        ):
            raise ApplicationError(
                f"the id column '{dataset.id_column}' holds {LABELS[id_decision['kind']].lower()}: "
                "it must be pseudonymised",
                field="decisions",
            )
    dropped = {c for c, d in decisions.items() if d["action"] == "drop"}
    for column in [*quasi, *sensitive]:
        if column not in columns or column in dropped:
            raise ApplicationError(
                f"'{column}' cannot be a quasi-identifier or sensitive attribute: it is not in the "
                "anonymised table",
                field="quasi_identifiers",
            )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode()


def privacy_gate(dataset: Any) -> None:
    """Refuse to segment a dataset whose privacy review the consultant has not confirmed."""
    if not dataset.file:
        raise ApplicationError(
            f"'{dataset.name}' was deleted under the project's retention policy: upload the data again",
            field="dataset",
        )
    review = PrivacyReview.objects.filter(dataset=dataset).first()
    if review is not None and not review.is_confirmed:
        raise ApplicationError(
            f"'{dataset.name}' contains personal data that has not been reviewed yet: confirm its "
            "privacy review (what to drop, mask or pseudonymise) before starting a run",
            field="dataset",
        )


def manifest_identity(version: Any) -> dict[str, Any]:
    """What the manifest says about the join key of the deliverables."""
    review = PrivacyReview.objects.filter(dataset__runs__version=version).first()
    column = version.segmentation_spec.id_column
    if review is not None and review.id_pseudonymised:
        return {
            "column": column,
            "pseudonymised": True,
            "method": "HMAC-SHA256 keyed with the project's secret key: only the key holder can "
            "map these values back to the client's original ids",
        }
    return {"column": column, "pseudonymised": False}
