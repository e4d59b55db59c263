"""What changed between two segment versions: spec, selection, segments and label agreement.

The comparison itself is :func:`segmentation.compare.compare_segmentations`; this module loads
the two sides and shapes the result as the API's ``diff`` answer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from governance.models import SegmentVersion
from governance.selectors import renamed_segments, version_segmentation
from segmentation.compare import SegmentSummary, compare_segmentations

from .charts import same_data_labels


def version_diff(*, version: SegmentVersion, against: SegmentVersion) -> dict[str, Any]:
    """A read-only comparison of ``version`` with an earlier (or any other) version.

    ``spec`` lists every key whose value differs; ``segments`` pairs the two profiles by segment
    number; ``agreement`` is the adjusted Rand index of their labels on the same data, or None
    when the two were made from different data; ``renamed`` lists the segments of either
    version a consultant renamed (the engine's name and the presented one).
    """
    labels = same_data_labels(against, version)
    old_labels, new_labels = (None, None) if labels is None else labels
    comparison = compare_segmentations(
        version_segmentation(against, labels=old_labels), version_segmentation(version, labels=new_labels)
    )
    return {
        "version": version.pk,
        "against": against.pk,
        "same_data": version.data_sha256 == against.data_sha256,
        "spec": {c.key: {"from": c.old, "to": c.new} for c in comparison.spec_changes},
        "selected": {
            "from": comparison.old_selected.to_dict(),
            "to": comparison.new_selected.to_dict(),
        },
        "segments": [
            {"segment": pair.segment, "from": _summary(pair.old), "to": _summary(pair.new)}
            for pair in comparison.segments
        ],
        "agreement": comparison.agreement,
        "renamed": renamed_segments(against, version),
    }


def _summary(summary: SegmentSummary | None) -> dict[str, Any] | None:
    return None if summary is None else asdict(summary)
