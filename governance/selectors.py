"""Reads of the governance layer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from projects.selectors import projects_for_user
from segmentation import SegmentationError, load_model, read_csv_bytes, read_input
from segmentation.compare import Segmentation, scored_labels
from segplatform.errors import ApplicationError

from .models import SegmentVersion, VersionStatusChange
from .presentation import presented_profile, presented_segments

# Versions are immutable, so a loaded model stays valid for as long as it is cached.
_CACHE: OrderedDict[tuple[int, str], Any] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def versions_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[SegmentVersion]:
    return SegmentVersion.objects.filter(project__in=projects_for_user(user)).select_related("project")


def version_model(version: SegmentVersion) -> Any:
    """The fitted model of a version, loaded once per process.

    The one place the platform turns a stored artefact back into a model: scoring, the charts, the
    diff, DP releases and the scorers all come through here.
    """
    key = (version.pk, version.model_sha256)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        model = load_model(version.model)
    except (SegmentationError, KeyError, TypeError, ValueError) as exc:
        raise ApplicationError(
            f"version {version.label} has a model this platform cannot load ({exc}): start a new run"
        ) from None
    with _CACHE_LOCK:
        _CACHE[key] = model
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


def version_scored_table(version: SegmentVersion) -> pd.DataFrame:
    """The table the version's model reads: the upload, or for a transaction log the engineered
    customer features (``features.csv``)."""
    if version.segmentation_spec.is_transactions:
        deliverable = version.deliverables.get(kind="features.csv")
        with deliverable.file.open("rb") as handle:
            return read_input(handle.read(), name="features.csv")
    return version.run.dataset.read_table()


def version_scored_labels(version: SegmentVersion) -> pd.DataFrame:
    """``customer_id`` and ``segment`` as the version's model scores its own table."""
    return scored_labels(version_model(version), version_scored_table(version))


def version_stored_labels(version: SegmentVersion) -> pd.DataFrame | None:
    """The labels the run delivered (``labels.csv``), or None when the version has none."""
    deliverable = version.deliverables.filter(kind="labels.csv").first()
    if deliverable is None:
        return None
    with deliverable.file.open("rb") as handle:
        return read_csv_bytes(handle.read(), name="labels.csv")


_VALUES: OrderedDict[tuple[int, str], dict[str, dict[str, float | None]]] = OrderedDict()


def version_lifetime_values(version: SegmentVersion) -> dict[str, dict[str, float | None]] | None:
    """Each customer's ``p_alive``, ``expected_purchases_<H>`` and ``clv_<H>`` from the version's
    ``clv.csv``, by customer id; None when the version has no CLV. Cached per file hash, so an
    erasure that rewrites the file is seen at once."""
    deliverable = version.deliverables.filter(kind="clv.csv").first()
    if deliverable is None:
        return None
    key = (version.pk, deliverable.sha256)
    with _CACHE_LOCK:
        if key in _VALUES:
            _VALUES.move_to_end(key)
            return _VALUES[key]
    with deliverable.file.open("rb") as handle:
        table = read_csv_bytes(handle.read(), name="clv.csv")
    columns = [
        c for c in table.columns if c == "p_alive" or str(c).startswith(("expected_purchases_", "clv_"))
    ]
    if "p_alive" not in columns:
        return None
    ids = table["customer_id"].astype(str).to_numpy()
    numbers = table[columns].apply(pd.to_numeric, errors="coerce")
    rows = numbers.astype(object).where(numbers.notna(), None).to_dict(orient="records")
    values = dict(zip(ids, rows, strict=True))
    with _CACHE_LOCK:
        _VALUES[key] = values
        if len(_VALUES) > _CACHE_SIZE:
            _VALUES.popitem(last=False)
    return values


def version_segmentation(version: SegmentVersion, *, labels: pd.DataFrame | None = None) -> Segmentation:
    """The stored version as one side of :func:`segmentation.compare.compare_segmentations`:
    its profile with the segments' presented names, spec and metrics as stored, with ``labels``
    when the caller has some."""
    return Segmentation(
        labels=labels, profile=presented_profile(version), spec=version.spec, metrics=version.metrics_view
    )


def renamed_segments(*versions: SegmentVersion) -> list[dict[str, Any]]:
    """Each segment of ``versions`` a consultant renamed: the engine's name and the new one."""
    return [
        {"version": version.label, "segment": s.segment, "old": s.suggested_name, "new": s.name}
        for version in versions
        for s in presented_segments(version)
        if s.renamed
    ]


@dataclass(frozen=True)
class VersionRow:
    """One line of a project's version list: what a reviewer scans for."""

    version: SegmentVersion
    status: str
    status_label: str
    dataset: str
    author: str
    approver: str


def version_rows(project: Any) -> list[VersionRow]:
    """The project's versions, newest first, with status, data, author and approver."""
    versions = (
        SegmentVersion.objects.filter(project=project)
        .select_related("run__dataset", "created_by", "run__created_by", "parent")
        .prefetch_related(Prefetch("status_changes", queryset=_changes_in_order(), to_attr="changes"))
        .prefetch_related("deliverables")
    )
    rows = []
    for version in versions:
        changes = version.changes
        status = changes[-1].status if changes else VersionStatusChange.Status.DRAFT
        approvals = [c for c in changes if c.status == VersionStatusChange.Status.APPROVED]
        author = version.created_by or (version.run.created_by if version.run else None)
        rows.append(
            VersionRow(
                version=version,
                status=status,
                status_label=VersionStatusChange.Status(status).label,
                dataset=version.run.dataset.name if version.run and version.run.dataset else "",
                author=author.get_username() if author else "command line",
                approver=approvals[-1].actor.get_username() if approvals and approvals[-1].actor else "",
            )
        )
    return rows


def _changes_in_order() -> QuerySet[VersionStatusChange]:
    return VersionStatusChange.objects.select_related("actor").order_by("created_at", "id")
