"""A version's lineage: the versions made on one dataset and on its refreshed uploads.

A project often segments several tables (a customer table, a transaction log, a second client
extract); a new version follows the previous version of *its own* data, never simply the
project's latest one, so its diff, the compare page and (later) its deployment speak of one thing.
A refreshed export keeps its file name, so datasets of one project whose names agree, case and
file type aside (``telco.csv`` and ``Telco.xlsx``), are one lineage.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from .models import SegmentVersion


def lineage_key(dataset_name: str) -> str:
    return PurePath(dataset_name.strip()).stem.casefold()


def lineage_parent(*, project: Any, dataset: Any) -> SegmentVersion | None:
    """The latest version of the project made on ``dataset`` or a dataset of its lineage."""
    key = lineage_key(dataset.name)
    candidates = (
        SegmentVersion.objects.filter(project=project, run__dataset__isnull=False)
        .select_related("run__dataset")
        .order_by("-number")
    )
    for version in candidates:
        other = version.run.dataset
        if other.pk == dataset.pk or lineage_key(other.name) == key:
            return version
    return None
