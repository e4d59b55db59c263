"""What changed between two segment versions: spec, selection, segments and label agreement."""

from __future__ import annotations

from typing import Any

from governance.models import SegmentVersion

from .charts import runs_agreement


def version_diff(*, version: SegmentVersion, against: SegmentVersion) -> dict[str, Any]:
    """A read-only comparison of ``version`` with an earlier (or any other) version.

    ``spec`` lists every key whose value differs; ``segments`` pairs the two profiles by segment
    number; ``agreement`` is the adjusted Rand index of their labels on the same data, or None
    when the two were made from different data.
    """
    keys = sorted(set(version.spec) | set(against.spec))
    spec = {
        key: {"from": against.spec.get(key), "to": version.spec.get(key)}
        for key in keys
        if against.spec.get(key) != version.spec.get(key)
    }
    before = {row["segment"]: row for row in against.profile}
    after = {row["segment"]: row for row in version.profile}
    segments = [
        {
            "segment": number,
            "from": _summary(before.get(number)),
            "to": _summary(after.get(number)),
        }
        for number in sorted(set(before) | set(after))
    ]
    return {
        "version": version.pk,
        "against": against.pk,
        "same_data": version.data_sha256 == against.data_sha256,
        "spec": spec,
        "selected": {
            "from": against.metrics.get("selected", {}),
            "to": version.metrics.get("selected", {}),
        },
        "segments": segments,
        "agreement": runs_agreement(version, against),
    }


def _summary(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"name": row.get("name"), "size": row.get("size"), "share": row.get("share")}
