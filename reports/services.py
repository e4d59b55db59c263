"""Building a segment version's deliverables and handing them out."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from governance.bias import BiasResult
from governance.diff import version_comparison
from governance.dp_policy import dp_withheld_check
from governance.dp_release import dp_budget
from governance.lifecycle import version_status
from governance.models import (
    BiasAudit,
    DPRelease,
    PrivacyReview,
    ProjectPolicy,
    SegmentVersion,
    VersionStatusChange,
)
from governance.pii_review import manifest_identity
from governance.presentation import column_labels, presented_profile
from governance.selectors import version_model
from segmentation import SegmentationError
from segmentation.compare import Comparison
from segmentation.explain.rules import RuleSet, rules_csv, rules_json, rules_text
from segmentation.lifecycle.report import LifecycleReport
from segmentation.result import Rules
from segplatform.errors import ApplicationError

from .content import ReportContent, report_content
from .formatting import column_labels_in_force
from .lifecycle_sections import lifecycle_content
from .models import Deliverable
from .sections import Section
from .tables import csv_bytes, excel_refusal, xlsx_bytes
from .what_changed import RetrainingOrigin, what_changed_section

SCORER_DIALECTS = ("postgresql", "sqlite", "duckdb", "snowflake", "bigquery", "spark", "databricks")
# What a Spark session must be told: the scorer is ANSI-safe, and only a timestamp column that
# is not an instant (text or TIMESTAMP_NTZ) is read in the session's time zone.
SPARK_NOTE = (
    "-- Spark SQL 3.1 or later (proven on 4.1), ANSI mode on or off; a TIMESTAMP column is read as the\n"
    "-- instant it is, text or TIMESTAMP_NTZ in the session's zone: set spark.sql.session.timeZone=UTC.\n"
)
TRANSACTION_SCORER_TABLE = "customer_features"


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n").encode()


def version_content(version: SegmentVersion, approval: dict[str, Any] | None = None) -> ReportContent:
    """The report's content, with the governance records read here as plain values.

    ``approval`` (approver, at) makes it the approved edition."""
    content = report_content(
        # The segments as the consultant presents them; the stored profile stays as the run made it.
        profile=pd.DataFrame(presented_profile(version)),
        labels=column_labels(version.project),
        metrics=version.metrics_view,
        title=version.project.name,
        client=version.project.client.name,
        version_id=version.label,
        version_hash=version.version_hash,
        created=version.created_at,
        bias=_bias_values(version),
        privacy=_privacy_values(version),
        lifecycle=_lifecycle_values(version),
        approval=approval,
    )
    # None for a customer table and for versions made before the lifecycle models
    lifecycle = lifecycle_content(
        version.metrics_view,
        discount_rate=version.segmentation_spec.clv_discount_rate,
        names={s.segment: s.name for s in content.segments},
    )
    return replace(content, what_changed=_what_changed(version), customer_lifecycle=lifecycle)


def _what_changed(version: SegmentVersion) -> Section | None:
    """A retrained version's "What changed", against the deployed version its refresh monitored."""
    origin = RetrainingOrigin.from_dict(version.run.origin if version.run is not None else None)
    if origin is None:
        return None
    deployed = SegmentVersion.objects.filter(project=version.project, pk=origin.deployed_version).first()
    comparison: Comparison | None = None
    if deployed is None:
        note = f"{origin.deployed_label} is no longer on the platform"
    else:
        try:
            note, comparison = version_comparison(deployed, version)
        except ApplicationError as exc:
            note = exc.message
        except SegmentationError as exc:
            note = str(exc)
    with column_labels_in_force(column_labels(version.project)):
        return what_changed_section(origin, version=version.label, comparison=comparison, note=note)


def _bias_values(version: SegmentVersion) -> dict[str, Any]:
    audit = BiasAudit.objects.filter(version=version).first()
    if audit is None:
        return {"protected_columns": list(version.segmentation_spec.protected_columns)}
    return {"protected_columns": audit.protected_columns, "rows": audit.rows, "findings": audit.findings}


def _privacy_values(version: SegmentVersion) -> dict[str, Any]:
    review = None
    if version.run is not None:
        review = PrivacyReview.objects.filter(dataset_id=version.run.dataset_id).first()
    policy = ProjectPolicy.objects.filter(project=version.project).first()
    return {
        "reviewed": review is not None and review.is_confirmed,
        "risk": review.risk if review else {},
        "quasi_identifiers": review.quasi_identifiers if review else [],
        "sensitive": review.sensitive if review else [],
        "decisions": review.decisions if review else {},
        "identity": manifest_identity(version),
        # A project without a policy row yet is held to the policy's defaults.
        "target_k": policy.target_k if policy else _default("target_k"),
        "dp_budget": dp_budget(version),
        "dp_releases": [
            {"epsilon": r.epsilon, "at": r.created_at} for r in DPRelease.objects.filter(version=version)
        ],
    }


def _default(field: str) -> Any:
    return ProjectPolicy._meta.get_field(field).default


def _user_name(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _lifecycle_values(version: SegmentVersion) -> dict[str, Any]:
    history = list(VersionStatusChange.objects.filter(version=version).select_related("actor"))
    parent = version.parent
    return {
        "status": version_status(version),
        "history": [
            {"status": h.status, "actor": _user_name(h.actor), "at": h.created_at, "reason": h.reason}
            for h in history
        ],
        "parent": parent.label if parent else None,
        "parent_hash": parent.version_hash if parent else "",
        "created_at": version.created_at,
        "created_by": _user_name(version.created_by),
        "code_version": version.code_version,
        "built_at": timezone.now(),
    }


def document_bytes(build: Callable[[ReportContent, Path], None], content: ReportContent) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document"
        build(content, path)
        return path.read_bytes()


def _scorer_bytes(version: SegmentVersion, dialect: str) -> bytes:
    from segmentation.sql.features import TABLE, compile_transaction_scorer, unsupported_features
    from segmentation.sql.scorer import compile_scorer

    model = version_model(version)  # either format: old versions still get scorers
    header = f"-- Segplatform scorer · {version.project.name} {version.label} · version_hash {version.version_hash}\n"
    if not version.segmentation_spec.is_transactions:
        return (header + compile_scorer(model, dialect).rstrip().rstrip(";") + ";\n").encode()
    details = version.metrics_view.transactions
    as_of, as_of_date = details.as_of, details.as_of_date
    # The SQL compiler reads the projection as the JSON the engine stored.
    affinity = details.affinity.to_dict() if details.affinity else None
    missing = unsupported_features(model, affinity)
    if as_of_date is not None and not missing:
        sql = compile_transaction_scorer(
            model, dialect, spec=version.segmentation_spec, as_of=as_of_date, affinity=affinity
        )
        header += (
            f"-- Input: the transaction log as a table {TABLE} (its own column names; timestamps as the\n"
            f"-- database's timestamp type, ISO text in SQLite); features computed as of {as_of}.\n"
        )
        if dialect in ("spark", "databricks"):
            header += SPARK_NOTE
        return (header + sql.rstrip().rstrip(";") + ";\n").encode()
    # Some feature the model reads has no exact SQL form here (a version made before the
    # affinity projection was stored): the scorer reads a table shaped like features.csv rather
    # than label customers differently from Python.
    table = TRANSACTION_SCORER_TABLE
    header += (
        f"-- Input: a table {table} with the columns of features.csv (customer_id and the engineered\n"
        f"-- features as of {as_of or 'the as-of date'}), not the transaction log: the model reads\n"
        f"-- {', '.join(missing) or 'features'}, which this version cannot compute exactly in SQL.\n"
    )
    return (header + compile_scorer(model, dialect, table=table).rstrip().rstrip(";") + ";\n").encode()


@transaction.atomic
def deliverables_build(
    *,
    version: SegmentVersion,
    labels: pd.DataFrame,
    features: pd.DataFrame | None = None,
    rules: RuleSet | None = None,
    bias: BiasResult | None = None,
    lifecycle: LifecycleReport | None = None,
) -> list[Deliverable]:
    """Write every deliverable of a freshly created version, and the manifest that hashes them.

    ``features`` (``customer_id`` plus every feature before scaling) becomes ``features.csv``;
    ``bias``, the version's bias audit (already recorded), becomes ``bias.csv`` and ``bias.json``;
    a log's ``lifecycle`` report becomes ``lifecycle.json`` (cohorts, CLV by segment, states),
    ``clv.csv`` (each customer's CLV, state and churn probability) and ``movers.csv``.
    """
    from .deck import build_deck
    from .pdf import build_report_pdf

    labels = labels[[c for c in ("customer_id", "segment", "membership") if c in labels.columns]]
    profile = pd.DataFrame(version.profile)
    content = version_content(version)
    contents: dict[str, bytes] = {Deliverable.Kind.LABELS: csv_bytes(labels)}
    skipped: dict[str, str] = {}
    _add_spreadsheet(contents, skipped, "labels.xlsx", labels)
    contents[Deliverable.Kind.PROFILE] = csv_bytes(profile)
    _add_spreadsheet(contents, skipped, "profile.xlsx", profile)
    contents[Deliverable.Kind.METRICS] = _json_bytes(version.metrics)
    contents[Deliverable.Kind.DECK] = document_bytes(build_deck, content)
    contents["report.pdf"] = document_bytes(build_report_pdf, content)
    if features is not None:
        contents[Deliverable.Kind.FEATURES] = csv_bytes(features)
    for dialect in SCORER_DIALECTS:
        contents[f"scorer_{dialect}.sql"] = _scorer_bytes(version, dialect)
    if rules is not None:
        contents.update(_rules_files(rules, version.metrics_view.rules))
    if bias is not None:
        contents["bias.csv"] = csv_bytes(bias.table)
        # NaN allowed here: a figure the audit could not compute (one group alone) stays visible.
        contents["bias.json"] = (
            json.dumps(bias.findings, indent=2, sort_keys=True, default=str) + "\n"
        ).encode()
    if lifecycle is not None:
        contents["lifecycle.json"] = _json_bytes(lifecycle.summary)
        contents["clv.csv"] = csv_bytes(lifecycle.customers)
        contents["movers.csv"] = csv_bytes(lifecycle.movers)
    contents[Deliverable.Kind.MANIFEST] = _json_bytes(_manifest(version, contents, skipped))
    return [deliverable_store(version, kind, data) for kind, data in contents.items()]


def _add_spreadsheet(
    contents: dict[str, bytes], skipped: dict[str, str], name: str, frame: pd.DataFrame
) -> None:
    """The Excel copy of a table, or the reason it has none (the CSV beside it is complete)."""
    refusal = excel_refusal(frame)
    if refusal is None:
        contents[name] = xlsx_bytes(frame, sheet=name.removesuffix(".xlsx"))
    else:
        skipped[name] = refusal


def _rules_files(rules: RuleSet, stored: Rules | None) -> dict[str, bytes]:
    """The surrogate rules as text (with the SQL CASE), JSON (with fidelity) and CSV.

    ``rules.json`` is the rules as the version stored them, when it did."""
    text = rules_text(rules)
    if stored is not None and stored.sql_case:
        text += (
            "\nThe same rules as one SQL expression giving the segment number:\n\n" + stored.sql_case + "\n"
        )
    return {
        "rules.txt": text.encode(),
        "rules.json": _json_bytes(stored.to_dict() if stored is not None else rules_json(rules)),
        "rules.csv": rules_csv(rules).encode(),
    }


def _manifest(version: SegmentVersion, contents: dict[str, bytes], skipped: dict[str, str]) -> dict[str, Any]:
    manifest = {
        "version_id": version.label,
        "version_hash": version.version_hash,
        "project": version.project.name,
        "client": version.project.client.name,
        "created_at": version.created_at.isoformat(),
        "model_sha256": version.model_sha256,
        "data_sha256": version.data_sha256,
        "code_version": version.code_version,
        "customer_id": manifest_identity(version),
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(contents.items())
        },
    }
    if skipped:  # only then: the manifests of every other version keep their bytes
        manifest["skipped"] = dict(sorted(skipped.items()))
    return manifest


def deliverable_store(version: SegmentVersion, kind: str, data: bytes) -> Deliverable:
    deliverable = Deliverable(
        version=version, kind=kind, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data)
    )
    deliverable.file.save(kind, ContentFile(data), save=False)
    deliverable.save()
    return deliverable


def deliverable_read(
    *, deliverable: Deliverable, user: Any = None, request: HttpRequest | None = None, audit: bool = True
) -> bytes:
    """The deliverable's bytes in clear, with an audit event for the download."""
    with deliverable.file.open("rb") as handle:
        data = handle.read()
    if audit:
        audit_record(
            action="deliverable.download",
            actor=user,
            project=deliverable.version.project,
            obj=deliverable,
            request=request,
            details={"kind": deliverable.kind, "version": deliverable.version.label},
        )
    return data


def deliverable_fetch(*, deliverable: Deliverable, user: Any, request: HttpRequest | None = None) -> bytes:
    """A user's download of one file: refused (ApplicationError, with the reason) when the
    version's DP policy keeps the file on the platform, else its bytes, audited."""
    dp_withheld_check(deliverable.version, deliverable.kind)
    return deliverable_read(deliverable=deliverable, user=user, request=request)


def deliverables_export(*, version: SegmentVersion, out_dir: Path, actor_name: str) -> list[Path]:
    """Write a version's deliverables into a folder (the command line's ``--out``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for deliverable in version.deliverables.all():
        path = out_dir / deliverable.filename
        path.write_bytes(deliverable_read(deliverable=deliverable, audit=False))
        written.append(path)
    audit_record(
        action="deliverable.export",
        actor_name=actor_name,
        project=version.project,
        obj=version,
        details={"out_dir": str(out_dir), "files": [p.name for p in written]},
    )
    return written
