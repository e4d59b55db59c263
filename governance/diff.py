"""What changed between two versions, for the version page: spec, k and algorithm, segments
renamed by a consultant, centroids, and customer migration.

The comparison itself is :func:`segmentation.compare.compare_segmentations`; this module finds
labels both versions can be compared on and shapes the result for the page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from segmentation import SegmentationError
from segmentation.compare import Comparison, compare_segmentations, scored_labels
from segplatform.errors import ApplicationError

from .models import SegmentVersion
from .selectors import renamed_segments, version_model, version_segmentation, version_stored_labels

Labels = tuple[pd.DataFrame, pd.DataFrame] | None


def _migration_labels(old: SegmentVersion, new: SegmentVersion) -> tuple[str, Labels]:
    """Labels of both versions on the same customers, and a note saying where they come from."""
    if old.data_sha256 == new.data_sha256:
        a, b = version_stored_labels(old), version_stored_labels(new)
        if a is None or b is None:
            return "labels are missing", None
        return "both versions labelled the same data", (a, b)
    # Different data: score the newer version's table with both models, if both can read it.
    if new.run is None:
        return "the versions scored different data", None
    try:
        model_a, model_b = version_model(old), version_model(new)
        table = new.run.dataset.read_table()
        # The older model may have known the id column by another name: the table's is the newer one's.
        labels = scored_labels(model_a, table, id_column=model_b.id_column), scored_labels(model_b, table)
    except (ApplicationError, SegmentationError, KeyError, OSError, ValueError):
        # ValueError: the newer data was deleted under retention (the file field is empty).
        return "the versions scored different data that cannot be read with both models", None
    return f"both models scored {new.label}'s data", labels


def version_comparison(old: SegmentVersion, new: SegmentVersion) -> tuple[str, Comparison]:
    """The comparison of ``new`` with ``old`` and where its migration labels come from; raises
    :class:`SegmentationError` when labels cannot be joined (a customer named twice)."""
    note, labels = _migration_labels(old, new)
    old_labels, new_labels = (None, None) if labels is None else labels
    comparison = compare_segmentations(
        version_segmentation(old, labels=old_labels), version_segmentation(new, labels=new_labels)
    )
    return note, comparison


def version_diff_context(old: SegmentVersion, new: SegmentVersion) -> dict[str, Any]:
    """The version page's comparison of ``new`` with ``old``, as plain data for its template."""
    note, comparison = version_comparison(old, new)
    return {
        "old": old.label,
        "new": new.label,
        "same_data": old.data_sha256 == new.data_sha256,
        "spec_changes": [{"key": c.key, "old": c.old, "new": c.new} for c in comparison.spec_changes],
        "selected": {
            "old": {"k": comparison.old_k, "algorithm": comparison.old_selected.algorithm or ""},
            "new": {"k": comparison.new_k, "algorithm": comparison.new_selected.algorithm or ""},
        },
        "code_version": {"old": old.code_version, "new": new.code_version},
        "centroid_changes": [
            {
                "segment": shift.segment,
                "name": shift.name,
                "closest_old_segment": shift.closest_old_segment,
                "closest_old_name": shift.closest_old_name,
                "shift": {feature: round(move, 4) for feature, move in shift.shift.items()},
            }
            for shift in comparison.centroid_shifts
        ],
        "renamed_segments": renamed_segments(old, new),
        "migration_note": note,
        "migration": None if comparison.migration is None else comparison.migration.to_dict(),
    }
