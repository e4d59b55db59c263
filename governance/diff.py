"""What changed between two versions: spec, k and algorithm, centroids, and customer migration."""

from __future__ import annotations

from typing import Any

import pandas as pd

from segmentation import SegmentationError, read_csv_bytes
from segplatform.errors import ApplicationError

from .models import SegmentVersion
from .selectors import version_model


def _spec_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            changes.append({"key": key, "old": old.get(key), "new": new.get(key)})
    return changes


def _selected(version: SegmentVersion) -> dict[str, Any]:
    selected = version.metrics.get("selected", {})
    return {"k": selected.get("k", len(version.profile)), "algorithm": selected.get("algorithm", "")}


MEAN_SUFFIX = "_mean"


def _centroids(version: SegmentVersion) -> pd.DataFrame:
    """Each segment's feature means in the data's own units, from the version's profile.

    The profile holds them for every algorithm, so versions of any kind compare alike.
    """
    profile = pd.DataFrame(version.profile)
    means = [c for c in profile.columns if c.endswith(MEAN_SUFFIX)]
    centroids = profile[means].astype(float)
    centroids.columns = [c[: -len(MEAN_SUFFIX)] for c in means]
    return centroids


def _centroid_changes(old: SegmentVersion, new: SegmentVersion) -> list[dict[str, Any]]:
    ca, cb = _centroids(old), _centroids(new)
    common = [f for f in cb.columns if f in ca.columns]
    if not common:
        return []
    ca, cb = ca[common], cb[common]
    spread = pd.concat([ca, cb]).std().replace(0, 1.0).fillna(1.0)
    changes = []
    for j, row in cb.iterrows():
        distance = (((ca - row) / spread) ** 2).sum(axis=1)
        i = int(distance.idxmin())
        changes.append(
            {
                "segment": int(j),
                "name": new.segment_names[j],
                "closest_old_segment": i,
                "closest_old_name": old.segment_names[i],
                "shift": {f: round(float(row[f] - ca.loc[i, f]), 4) for f in common},
            }
        )
    return changes


def _labels(version: SegmentVersion) -> pd.DataFrame | None:
    deliverable = version.deliverables.filter(kind="labels.csv").first()
    if deliverable is None:
        return None
    with deliverable.file.open("rb") as handle:
        return read_csv_bytes(handle.read(), name="labels.csv")


def _migration(old: SegmentVersion, new: SegmentVersion) -> tuple[str, pd.DataFrame | None]:
    """Customers by old segment (rows) and new segment (columns), when both score the same data."""
    if old.data_sha256 == new.data_sha256:
        a, b = _labels(old), _labels(new)
        if a is None or b is None:
            return "labels are missing", None
        joined = a.merge(b, on="customer_id", suffixes=("_old", "_new"))
        return "both versions labelled the same data", pd.crosstab(
            joined["segment_old"].astype(int), joined["segment_new"].astype(int)
        )
    # Different data: score the newer version's table with both models, if both can read it.
    if new.run is None:
        return "the versions scored different data", None
    try:
        model_a, model_b = version_model(old), version_model(new)
        table = new.run.dataset.read_table()
        matrix = pd.crosstab(model_a.predict(table), model_b.predict(table))
    except (ApplicationError, SegmentationError, KeyError, OSError, ValueError):
        # ValueError: the newer data was deleted under retention (the file field is empty).
        return "the versions scored different data that cannot be read with both models", None
    return f"both models scored {new.label}'s data", matrix


def version_diff(old: SegmentVersion, new: SegmentVersion) -> dict[str, Any]:
    """The differences between two versions of one project, as plain data for a page or JSON."""
    note, matrix = _migration(old, new)
    migration = None
    if matrix is not None:
        migration = {
            "old_segments": [int(i) for i in matrix.index],
            "new_segments": [int(c) for c in matrix.columns],
            "counts": matrix.to_numpy().astype(int).tolist(),
            "rows": [{"segment": int(i), "counts": [int(n) for n in matrix.loc[i]]} for i in matrix.index],
        }
    return {
        "old": old.label,
        "new": new.label,
        "same_data": old.data_sha256 == new.data_sha256,
        "spec_changes": _spec_changes(old.spec, new.spec),
        "selected": {"old": _selected(old), "new": _selected(new)},
        "code_version": {"old": old.code_version, "new": new.code_version},
        "centroid_changes": _centroid_changes(old, new),
        "migration_note": note,
        "migration": migration,
    }
