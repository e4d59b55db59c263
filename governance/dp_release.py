"""Differentially private profile tables, released on request within a per-version budget."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest

from audit.services import audit_record
from segmentation import SegmentationError, read_csv_bytes
from segmentation.model.artefact import numeric_bounds
from segmentation.protection.dp import dp_profile
from segplatform.errors import ApplicationError

from .models import DPRelease, ProjectPolicy, SegmentVersion
from .selectors import version_model


def dp_budget(version: SegmentVersion) -> float:
    """The version's epsilon budget: its spec's ``dp_epsilon``, else the project's policy.

    Read-only: a project without a policy row yet is held to the policy's default budget, and
    no row is created just to answer (documents ask this while they are being built).
    """
    from_spec = version.segmentation_spec.dp_epsilon
    if from_spec is not None:
        return float(from_spec)
    policy = ProjectPolicy.objects.filter(project=version.project).first()
    if policy is not None:
        return float(policy.dp_budget_per_version)
    return float(ProjectPolicy._meta.get_field("dp_budget_per_version").default)


def dp_budget_spent(version: SegmentVersion) -> float:
    return float(version.dp_releases.aggregate(total=Sum("epsilon"))["total"] or 0.0)


def _release_features(version: SegmentVersion, features: list[str]) -> pd.DataFrame:
    """``customer_id`` and the released features: features.csv (engineered features of an event
    log as well) when the version kept it, else the uploaded table."""
    stored = version.deliverables.filter(kind="features.csv").first()
    if stored is not None:
        with stored.file.open("rb") as handle:
            table = read_csv_bytes(handle.read(), name="features.csv")
        if set(features) <= set(table.columns):
            return table
    if version.run is None or not version.run.dataset.file:
        raise ApplicationError("this version's data is no longer available (deleted under retention)")
    dataset = version.run.dataset
    table = dataset.read_table().rename(columns={dataset.id_column: "customer_id"})
    missing = [f for f in features if f not in table.columns]
    if missing:
        raise ApplicationError(
            f"this version's features ({', '.join(missing)}) are neither in features.csv nor in "
            "the uploaded table, so no private profile can be computed"
        )
    return table


def dp_release_create(
    *, version: SegmentVersion, epsilon: float, user: Any, request: HttpRequest | None = None
) -> DPRelease:
    """Release a noisy profile of the version with ``epsilon``, refusing to exceed the budget.

    Clamping bounds are the spec's declared ``dp_bounds``; a feature without them gets bounds
    from a DP quantile that spends part of ``epsilon`` (see :mod:`segmentation.protection.dp`),
    never the data's own minimum and maximum. A density version's noise customers are released
    as one more group (segment -1).
    """
    budget = dp_budget(version)
    if not epsilon > 0:
        raise ApplicationError("epsilon must be a positive number, e.g. 0.5", field="epsilon")
    try:
        model = version_model(version)
        features = list(numeric_bounds(model))
    except (ApplicationError, SegmentationError, KeyError):
        raise ApplicationError("this version's model has no numeric profile to release privately") from None
    if not features:
        raise ApplicationError("this version's model has no numeric profile to release privately")
    with transaction.atomic():
        SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
        spent = dp_budget_spent(version)
        if spent + epsilon > budget + 1e-9:
            raise ApplicationError(
                f"{version.label} has spent ε={spent:g} of its budget of {budget:g}: at most "
                f"ε={max(budget - spent, 0):g} is left",
                field="epsilon",
            )
        labels_file = version.deliverables.filter(kind="labels.csv").first()
        if labels_file is None:
            raise ApplicationError(f"{version.label}'s labels were deleted under the retention policy")
        with labels_file.file.open("rb") as handle:
            labels = read_csv_bytes(handle.read(), name="labels.csv")
        table = _release_features(version, features)
        joined = labels.merge(table[["customer_id", *features]], on="customer_id", how="left")
        try:
            released = dp_profile(
                joined["segment"],
                joined[features],
                bounds=version.segmentation_spec.dp_bounds_map,
                epsilon=epsilon,
                n_segments=model.n_segments,
            )
        except SegmentationError as exc:
            raise ApplicationError(f"no private profile was released: {exc}") from None
        accounting = {
            # a list keeps the columns' order, which a JSON object need not (PostgreSQL's jsonb)
            "columns": list(released.table.columns),
            "parts": released.parts,
            "bounds": {column: list(pair) for column, pair in released.bounds.items()},
            "bounds_source": released.bounds_source,
        }
        release = DPRelease.objects.create(
            version=version,
            epsilon=released.epsilon,
            table=released.table.to_dict(orient="records"),
            accounting=accounting,
            requested_by=user,
        )
        audit_record(
            action="dp.release",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"epsilon": released.epsilon, "spent": spent + released.epsilon, "budget": budget},
        )
    return release


def dp_release_csv(release: DPRelease) -> bytes:
    """The noisy table as CSV, the one profile that leaves the platform under a DP policy."""
    table = pd.DataFrame(release.table)
    order = [c for c in release.accounting.get("columns", ["segment", "size"]) if c in table.columns]
    return table[order + [c for c in table.columns if c not in order]].to_csv(index=False).encode()


def dp_release_files(version: SegmentVersion) -> dict[str, bytes]:
    """Every noisy release of the version as ``dp_release_<n>.csv``, for the ZIPs."""
    return {f"dp_release_{n}.csv": dp_release_csv(r) for n, r in enumerate(version.dp_releases.all(), 1)}


def dp_release_fetch(*, release: DPRelease, user: Any, request: HttpRequest | None = None) -> bytes:
    """The release's CSV, with an audit event for the download."""
    audit_record(
        action="dp.release_download",
        actor=user,
        project=release.version.project,
        obj=release.version,
        request=request,
        details={"release": release.pk, "epsilon": release.epsilon},
    )
    return dp_release_csv(release)
