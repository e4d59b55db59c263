"""Differentially private profile tables, released on request within a per-version budget."""

from __future__ import annotations

from typing import Any

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


def dp_release_create(
    *, version: SegmentVersion, epsilon: float, user: Any, request: HttpRequest | None = None
) -> DPRelease:
    """Release a noisy profile of the version with ``epsilon``, refusing to exceed the budget.

    The clamping bounds are the model's own clipping bounds, recorded in the version.
    """
    budget = dp_budget(version)
    if not epsilon > 0:
        raise ApplicationError("epsilon must be a positive number, e.g. 0.5", field="epsilon")
    try:
        model = version_model(version)
        bounds = numeric_bounds(model)
    except (ApplicationError, SegmentationError, KeyError):
        raise ApplicationError("this version's model has no numeric profile to release privately") from None
    if version.run is None or not version.run.dataset.file:
        raise ApplicationError("this version's data is no longer available (deleted under retention)")
    with transaction.atomic():
        SegmentVersion.objects.select_for_update().filter(pk=version.pk).first()
        spent = dp_budget_spent(version)
        if spent + epsilon > budget + 1e-9:
            raise ApplicationError(
                f"{version.label} has spent ε={spent:g} of its budget of {budget:g}: at most "
                f"ε={max(budget - spent, 0):g} is left",
                field="epsilon",
            )
        dataset = version.run.dataset
        labels_file = version.deliverables.filter(kind="labels.csv").first()
        if labels_file is None:
            raise ApplicationError(f"{version.label}'s labels were deleted under the retention policy")
        with labels_file.file.open("rb") as handle:
            labels = read_csv_bytes(handle.read(), name="labels.csv")
        table = dataset.read_table().rename(columns={dataset.id_column: "customer_id"})
        features = list(bounds)
        joined = labels.merge(table[["customer_id", *features]], on="customer_id", how="left")
        released, used = dp_profile(
            joined["segment"].astype(int),
            joined[features],
            bounds=bounds,
            epsilon=epsilon,
            n_segments=model.n_segments,
        )
        release = DPRelease.objects.create(
            version=version, epsilon=used, table=released.to_dict(orient="records"), requested_by=user
        )
        audit_record(
            action="dp.release",
            actor=user,
            project=version.project,
            obj=version,
            request=request,
            details={"epsilon": used, "spent": spent + used, "budget": budget},
        )
    return release
