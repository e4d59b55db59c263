"""Experiments on a segment version: create a design, submit it for registration, approve or reject
it (maker-checker), and download what the client needs to run it.

The engine (:mod:`segmentation.experiments`) computes; this module decides who may, freezes the
registration with its hash, and audits every step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from governance.lifecycle import version_status
from governance.selectors import version_model, version_scored_table, version_stored_labels
from projects import access
from segmentation import SegmentationError
from segmentation.experiments import (
    Design,
    DesignSpec,
    compile_assignment,
    design,
    design_from_dict,
    parse_arms,
)
from segplatform.errors import ApplicationError

from .models import Experiment

DIALECTS = ("postgresql", "duckdb")


def canonical_json(data: Any) -> bytes:
    """The bytes a registration's hash is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def design_spec(asked: dict[str, Any]) -> DesignSpec:
    """The engine's spec of a design as the portal and the command line store it (arms as text)."""
    arms = asked.get("arms") or ""
    try:
        text = arms if isinstance(arms, str) else ",".join(f"{a['name']}:{a['ratio']}" for a in arms)
    except (KeyError, TypeError):
        raise SegmentationError(
            "arms are written name:ratio,… (control:1,treatment:1) or as a list of {name, ratio}", key="arms"
        ) from None
    parsed = parse_arms(text)
    rho = asked.get("rho")
    return design_from_dict(
        {
            **asked,
            "arms": [{"name": a.name, "ratio": a.ratio} for a in parsed],
            "cuped": None if rho is None else {"rho": rho},
            "covariate": asked.get("covariate") or None,
        }
    )


def _spec(version: Any, asked: dict[str, Any]) -> DesignSpec:
    try:
        return design_spec(asked)
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field=getattr(exc, "key", None) or "design") from None


def _labels(version: Any) -> pd.DataFrame:
    labels = version_stored_labels(version)
    if labels is None:
        raise ApplicationError(f"{version.label} has no labels.csv to assign customers from")
    return pd.DataFrame(
        {"customer_id": labels["customer_id"].astype(str), "segment": labels["segment"].astype(int)}
    )


def _covariates(version: Any) -> pd.DataFrame | None:
    """The features the version's model reads, per customer: what the balance table checks."""
    try:
        table = version_scored_table(version)
        model = version_model(version)
    except (ApplicationError, SegmentationError, KeyError, OSError, ValueError):
        return None  # purged under retention: balance is left out (design.json has no balance rows)
    categorical = {c.name for c in model.preprocessor.categorical}
    id_column = model.id_column if model.id_column in table.columns else "customer_id"
    frame = pd.DataFrame({"customer_id": table[id_column].astype(str)})
    for name in model.features:
        if name in table.columns:
            column = table[name]
            frame[name] = (
                column.astype("string") if name in categorical else pd.to_numeric(column, errors="coerce")
            )
    return frame


def version_design(version: Any, asked: dict[str, Any]) -> Design:
    """The engine's design of ``asked`` on the version's customers, computed afresh from its labels."""
    try:
        return design(
            _labels(version),
            _spec(version, asked),
            version_hash=version.version_hash,
            covariates=_covariates(version),
        )
    except SegmentationError as exc:
        raise ApplicationError(str(exc), field="design") from None


def experiment_design(experiment: Experiment) -> Design:
    return version_design(experiment.version, experiment.design)


def experiment_create(
    *, version: Any, name: str, design_asked: dict[str, Any], user: Any, request: Any = None
) -> Experiment:
    """A draft experiment on an approved version; the design is checked by the engine at once."""
    access.require(user, version.project, "run")
    if version_status(version) != "approved":
        raise ApplicationError(
            f"{version.label} is {version_status(version).replace('_', ' ')}: an experiment is designed on an "
            "approved version, so the segments it is stratified by are the ones signed off"
        )
    if not name.strip():
        raise ApplicationError("give the experiment a name", field="name")
    _spec(version, design_asked)
    with transaction.atomic():
        experiment = Experiment.objects.create(
            project=version.project, version=version, name=name.strip(), design=design_asked, created_by=user
        )
        audit_record(
            action="experiment.create",
            actor=user,
            project=version.project,
            obj=experiment,
            request=request,
            details={"version": version.label, "arms": design_asked.get("arms")},
        )
    return experiment


def experiment_submit(*, experiment: Experiment, user: Any, request: Any = None) -> Experiment:
    """Freeze the design into its registration (design.json and its SHA-256) and ask for approval."""
    access.require(user, experiment.project, "submit")
    if experiment.status not in (Experiment.Status.DRAFT, Experiment.Status.REJECTED):
        raise ApplicationError(
            f"'{experiment.name}' is {experiment.get_status_display().lower()}: it cannot change"
        )
    registration = experiment_design(experiment).to_dict()
    registration["experiment"] = experiment.name
    registration["version_label"] = experiment.version.label
    digest = hashlib.sha256(canonical_json(registration)).hexdigest()
    with transaction.atomic():
        changed = Experiment.objects.filter(pk=experiment.pk, status=experiment.status).update(
            status=Experiment.Status.SUBMITTED,
            registration=registration,
            registration_sha256=digest,
            submitted_by=user,
            submitted_at=timezone.now(),
            decided_by=None,
            decided_at=None,
            decision_reason="",
        )
        if not changed:
            raise ApplicationError(f"'{experiment.name}' changed meanwhile: reload it")
        audit_record(
            action="experiment.submit",
            actor=user,
            project=experiment.project,
            obj=experiment,
            request=request,
            details={"registration_sha256": digest},
        )
    experiment.refresh_from_db()
    return experiment


def experiment_decide(
    *, experiment: Experiment, approve: bool, user: Any, reason: str = "", request: Any = None
) -> Experiment:
    """A reviewer other than its author registers (approves) or rejects a submitted design."""
    access.require(user, experiment.project, "approve")
    if experiment.status != Experiment.Status.SUBMITTED:
        raise ApplicationError(
            f"'{experiment.name}' is {experiment.get_status_display().lower()}, not submitted"
        )
    if user.pk in {experiment.created_by_id, experiment.submitted_by_id}:
        raise ApplicationError("a design is registered by someone other than its author (maker-checker)")
    if not approve and not reason.strip():
        raise ApplicationError("say why you reject this design", field="reason")
    status = Experiment.Status.REGISTERED if approve else Experiment.Status.REJECTED
    with transaction.atomic():
        changed = Experiment.objects.filter(pk=experiment.pk, status=Experiment.Status.SUBMITTED).update(
            status=status, decided_by=user, decided_at=timezone.now(), decision_reason=reason.strip()
        )
        if not changed:
            raise ApplicationError(f"'{experiment.name}' was decided meanwhile: reload it")
        audit_record(
            action="experiment.register" if approve else "experiment.reject",
            actor=user,
            project=experiment.project,
            obj=experiment,
            request=request,
            details={"registration_sha256": experiment.registration_sha256, "reason": reason.strip()},
        )
    experiment.refresh_from_db()
    return experiment


def registration_intact(experiment: Experiment) -> bool:
    """Whether the stored registration still hashes to its recorded SHA-256."""
    if experiment.registration is None:
        return False
    return (
        hashlib.sha256(canonical_json(experiment.registration)).hexdigest() == experiment.registration_sha256
    )


def design_files(built: Design, registration: dict[str, Any] | None = None) -> dict[str, bytes]:
    """design.json, assignment.csv, balance.csv and one assignment script per dialect."""
    files = {
        "design.json": json.dumps(registration or built.to_dict(), indent=2, ensure_ascii=False).encode(),
        "assignment.csv": built.assignment[["customer_id", "segment", "arm"]].to_csv(index=False).encode(),
        "balance.csv": built.balance.to_csv(index=False).encode(),
    }
    for dialect in DIALECTS:
        files[f"assignment_{dialect}.sql"] = (
            compile_assignment(built.spec.arms, salt=built.salt, dialect=dialect) + ";\n"
        ).encode()
    return files


def experiment_files(*, experiment: Experiment, user: Any, request: Any = None) -> dict[str, bytes]:
    """The experiment's files, the assignment rebuilt from the frozen design; audited."""
    access.require(user, experiment.project, "view")
    built = experiment_design(experiment)
    if experiment.registration is not None:
        if not registration_intact(experiment):
            raise ApplicationError(
                f"the registration of '{experiment.name}' does not match its hash: ask an administrator"
            )
        if built.to_dict().get("counts") != experiment.registration.get("counts"):
            raise ApplicationError(
                f"the assignment of '{experiment.name}' no longer gives its registered counts: its version's labels changed"
            )
    audit_record(
        action="experiment.download",
        actor=user,
        project=experiment.project,
        obj=experiment,
        request=request,
        details={"registration_sha256": experiment.registration_sha256},
    )
    return design_files(built, experiment.registration)
