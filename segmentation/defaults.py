"""Defaults that follow the field: a spec's ``"auto"`` choices, decided from the data and recorded.

A spec leaves two choices to the data unless the user makes them:

* ``default_transform: "auto"``: each numeric column ``transforms`` does not name is logged or
  z-scored by the heavy-tail rule of :mod:`segmentation.data.heavy_tails`;
* ``reduction: "auto"``: PCA (the components explaining 90% of the variance, as
  ``"reduction": "pca"``) when there are more than :data:`PCA_FEATURES` numeric features and the
  distance is Euclidean, else none.

:func:`resolve_defaults` turns a spec into the one that says exactly what runs: the rule's
log1p columns named in ``transforms``, ``default_transform`` ``"zscore"`` and ``reduction``
``"pca"`` or ``"none"``. That resolved spec is what a version stores, so reading it back, or
running it again, never depends on the rule; the rule's reasons go to ``metrics.json`` as
``defaults`` (read by :class:`segmentation.metrics.defaults.FieldDefaults`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from .data.heavy_tails import field_transforms
from .spec import DEFAULT_TRANSFORM, SegmentationSpec

# A dozen features is what a hand-picked customer table has (RFM, tenure, a few rates); beyond it
# the columns are engineered groups (windows, affinity shares, diversity, seasonality) that measure
# few behaviours many times over. Distances then concentrate and correlated copies of one behaviour
# outvote the rest; PCA keeps the directions that carry the variance and weighs each once.
PCA_FEATURES = 12


def resolve_defaults(
    spec: SegmentationSpec, values: pd.DataFrame, *, ratio_scale: frozenset[str] = frozenset()
) -> tuple[SegmentationSpec, dict[str, Any] | None]:
    """The spec with its ``"auto"`` choices made on ``values`` (the numeric columns, as numbers),
    and the record of what was decided and why (None when the user made every choice).
    ``ratio_scale``: the features engineered from a log that are amounts, counts or durations."""
    record: dict[str, Any] = {}
    transforms = dict(spec.transforms)
    default_transform = spec.default_transform
    if default_transform == "auto":
        unnamed = [c for c in spec.numeric_columns if c not in transforms]
        decisions = field_transforms(values, unnamed, random_state=spec.random_state, ratio_scale=ratio_scale)
        record["transforms"] = {c: d.to_dict() for c, d in decisions.items()}
        transforms.update({c: d.transform for c, d in decisions.items() if d.transform != DEFAULT_TRANSFORM})
        default_transform = DEFAULT_TRANSFORM
    reduction = spec.reduction
    if reduction == "auto":
        reduction, why = _reduction(len(spec.numeric_columns), spec.distance)
        record["reduction"] = {"reduction": reduction, "features": len(spec.numeric_columns), "why": why}
    resolved = replace(
        spec,
        transforms=tuple(sorted(transforms.items())),
        default_transform=default_transform,
        reduction=reduction,
    )
    return resolved, (record or None)


def resolved_request(requested: SegmentationSpec, resolved: SegmentationSpec) -> SegmentationSpec:
    """The user's spec with the choices ``resolved`` made (for a log, ``resolved`` is the spec of
    its customer table of features, which names the same feature columns)."""
    return replace(
        requested,
        transforms=resolved.transforms,
        default_transform=resolved.default_transform,
        reduction=resolved.reduction,
    )


def _reduction(features: int, distance: str) -> tuple[str, str]:
    if distance != "euclidean":
        return "none", f"the {distance} distance is kept on the features themselves"
    if features > PCA_FEATURES:
        return "pca", f"{features} features, more than {PCA_FEATURES}: PCA keeps 90% of the variance"
    return "none", f"{features} features, {PCA_FEATURES} or fewer: clustered as they are"
