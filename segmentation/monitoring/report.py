"""One monitoring pass: the current customers against the version's reference, every check, one level.

:func:`monitor` takes two customer tables (one row a customer, the model's id column and the
columns it reads; :func:`customer_table_for` builds them from an upload or a log) and the frozen
model. Feature p-values are adjusted by Benjamini–Hochberg across the features, and the
per-segment ones across every segment and feature, before their levels are set. The overall level
is the worst of: the features, the segment shares, the per-segment drift, migration, novelty and
the refit. :meth:`MonitoringResult.to_dict` is ``drift.json``; each of its features carries its
``distribution``, the shares of both samples by the bins its PSI used (None when not tested).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..data.customer_table import build_customer_table
from ..errors import SegmentationError
from ..model.artefact import SegmentationModel, coerce_numeric
from ..spec import SegmentationSpec
from .features import FeatureTest, feature_test
from .levels import Thresholds, adjusted, at_least, p_level, worst
from .refit import Refit, refit_check
from .segments import Migration, Novelty, Shares, migration, novelty, scored, segment_shares

DRIFT_FORMAT = "segplatform.drift/1"


@dataclass(frozen=True)
class FeatureDrift:
    test: FeatureTest
    p_adjusted: float | None
    level: str

    def to_dict(self, *, distribution: bool = False) -> dict[str, Any]:
        """``distribution`` adds the shares of both samples by bin (features of the whole table;
        those within segments leave them out, which would multiply drift.json by the segments)."""
        t = self.test
        shown = {"distribution": t.distribution.to_dict() if t.distribution else None} if distribution else {}
        return {
            "feature": t.feature,
            "kind": t.kind,
            "test": t.test,
            "statistic": _rounded(t.statistic),
            "p_value": _rounded(t.p_value),
            "p_adjusted": _rounded(self.p_adjusted),
            "psi": _rounded(t.psi),
            "missing_reference": round(t.missing_reference, 6),
            "missing_current": round(t.missing_current, 6),
            "level": self.level,
            **shown,
        }


@dataclass(frozen=True)
class MonitoringResult:
    reference_customers: int
    current_customers: int
    features: tuple[FeatureDrift, ...]
    shares: Shares
    per_segment: dict[int, tuple[FeatureDrift, ...]]
    migration: Migration
    novelty: Novelty
    refit: Refit
    segment_names: dict[int, str]
    thresholds: Thresholds

    @property
    def per_segment_levels(self) -> dict[int, str]:
        return {s: worst(f.level for f in drifts) for s, drifts in self.per_segment.items()}

    @property
    def levels(self) -> dict[str, str]:
        """Each check's level."""
        return {
            "features": worst(f.level for f in self.features),
            "segment_shares": self.shares.level,
            "per_segment": worst(self.per_segment_levels.values()),
            "migration": self.migration.level,
            "novelty": self.novelty.level,
            "refit": self.refit.level,
        }

    @property
    def overall_level(self) -> str:
        return worst(self.levels.values())

    def shares_frame(self) -> pd.DataFrame:
        return self.shares.frame(self.segment_names)

    def migration_frame(self) -> pd.DataFrame:
        """``migration.csv``: one row per reference segment, one column per current segment."""
        matrix = self.migration.matrix
        if matrix.empty:
            return pd.DataFrame({"reference_segment": []})
        out = matrix.copy()
        out.columns = [f"current_{c}" for c in out.columns]
        return out.rename_axis("reference_segment").reset_index()

    def to_dict(self) -> dict[str, Any]:
        shares = self.shares
        refit = self.refit
        return {
            "format": DRIFT_FORMAT,
            "overall_level": self.overall_level,
            "levels": self.levels,
            "reference_customers": self.reference_customers,
            "current_customers": self.current_customers,
            "features": [f.to_dict(distribution=True) for f in self.features],
            "segment_shares": {
                "test": "chi_square",
                "statistic": _rounded(shares.chi_square),
                "p_value": _rounded(shares.p_value),
                "psi": _rounded(shares.psi),
                "level": shares.level,
                "segments": self.shares_frame().to_dict(orient="records"),
            },
            "per_segment": [
                {
                    "segment": segment,
                    "name": self.segment_names.get(segment, ""),
                    "level": self.per_segment_levels[segment],
                    "features": [f.to_dict() for f in drifts],
                }
                for segment, drifts in self.per_segment.items()
            ],
            "migration": {
                "customers_in_both": self.migration.customers,
                "moved_share": _rounded(self.migration.moved_share),
                "matrix": self.migration_frame().to_dict(orient="records"),
                "level": self.migration.level,
            },
            "novelty": {
                "cutoff": _rounded(self.novelty.cutoff),
                "reference_share": _rounded(self.novelty.reference_share),
                "current_share": _rounded(self.novelty.current_share),
                "ratio": _rounded(self.novelty.ratio),
                "p_value": _rounded(self.novelty.p_value),
                "level": self.novelty.level,
            },
            "refit": {
                "reference_adjusted_rand": _rounded(
                    refit.reference.adjusted_rand if refit.reference else None
                ),
                "current_adjusted_rand": _rounded(refit.current.adjusted_rand if refit.current else None),
                "current_matched_share": _rounded(refit.current.matched_share if refit.current else None),
                "drop": _rounded(refit.drop),
                "level": refit.level,
            },
            "thresholds": self.thresholds.__dict__,
        }


def _rounded(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), 6)


def customer_table_for(frame: pd.DataFrame, spec: SegmentationSpec, *, current: bool) -> pd.DataFrame:
    """The customer table a version's model reads, from an upload or a log like its own.

    A current log's features are taken as of the day after its last event, not the version's own
    ``as_of``: monitoring asks what customers look like now.
    """
    if current and spec.is_transactions:
        spec = replace(spec, as_of=None)
    return build_customer_table(frame, spec).frame


Columns = dict[str, tuple[np.ndarray, bool]]


def _columns(model: SegmentationModel, frame: pd.DataFrame) -> Columns:
    """Each column the model reads, read once as the model reads it: text or numbers (NaN missing)."""
    categorical = {c.name for c in model.preprocessor.categorical}
    out: Columns = {}
    for name in model.features:
        text = name in categorical
        values = frame[name].astype("string").to_numpy(dtype=object) if text else coerce_numeric(frame[name])
        out[name] = (np.asarray(values, dtype=object if text else float), text)
    return out


def _tests(
    reference: Columns, current: Columns, rows: tuple[np.ndarray, np.ndarray] | None = None
) -> list[FeatureTest]:
    """One test per column; ``rows`` keeps only those rows of each (a segment's customers)."""
    tests = []
    for name, (values, text) in reference.items():
        before, now = values, current[name][0]
        if rows is not None:
            before, now = before[rows[0]], now[rows[1]]
        tests.append(feature_test(name, before, now, text=text))
    return tests


def _levelled(tests: list[FeatureTest], thresholds: Thresholds) -> tuple[FeatureDrift, ...]:
    """Each test's level. A test with a p-value (small references) is levelled by its adjusted
    p-value alone: PSI on a few hundred rows is biased upwards (about (bins − 1)·(1/n + 1/m) under
    no drift) and would raise false alarms. A distance (large references) is levelled with its PSI,
    the worse of the two, both being near zero under no drift at that size."""
    adjusted_p = adjusted([t.p_value for t in tests])
    out = []
    for t, p in zip(tests, adjusted_p, strict=True):
        if t.p_value is not None:
            level = p_level(p, thresholds)
        elif t.statistic is not None:
            level = worst(
                [
                    at_least(t.statistic, thresholds.distance_warning, thresholds.distance_drift),
                    at_least(t.psi, thresholds.psi_warning, thresholds.psi_drift),
                ]
            )
        else:
            level = "none"
        out.append(FeatureDrift(t, p, level))
    return tuple(out)


def monitor(
    model: SegmentationModel,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    thresholds: Thresholds | None = None,
    random_state: int = 0,
) -> MonitoringResult:
    """Every check of the current customers against the reference; raises
    :class:`SegmentationError` naming the columns the current table lacks."""
    thresholds = thresholds or Thresholds()
    missing = [c for c in (model.id_column, *model.features) if c not in current.columns]
    if missing:
        raise SegmentationError(
            f"the current data lacks column(s) {', '.join(missing)} that the deployed model reads: "
            "upload a table with the same columns as the version's"
        )
    if current.empty:
        raise SegmentationError("the current data has no customers to monitor")
    reference_labels, reference_far = scored(model, reference)
    current_labels, current_far = scored(model, current)
    reference_columns, current_columns = _columns(model, reference), _columns(model, current)
    features = _levelled(_tests(reference_columns, current_columns), thresholds)

    per_segment_tests: dict[int, list[FeatureTest]] = {}
    for segment in np.unique(reference_labels[reference_labels >= 0]):
        rows = (reference_labels == segment, current_labels == segment)
        if rows[1].any():
            per_segment_tests[int(segment)] = _tests(reference_columns, current_columns, rows)
    flat = [t for tests in per_segment_tests.values() for t in tests]
    levelled = iter(_levelled(flat, thresholds))
    per_segment = {s: tuple(next(levelled) for _ in tests) for s, tests in per_segment_tests.items()}

    return MonitoringResult(
        reference_customers=len(reference),
        current_customers=len(current),
        features=features,
        shares=segment_shares(reference_labels, current_labels, thresholds),
        per_segment=per_segment,
        migration=migration(
            reference[model.id_column], reference_labels, current[model.id_column], current_labels, thresholds
        ),
        novelty=novelty(
            reference_far,
            reference_labels,
            current_far,
            current_labels,
            thresholds,
        ),
        refit=refit_check(
            model, reference, reference_labels, current, current_labels, thresholds, random_state=random_state
        ),
        segment_names=dict(enumerate(model.segment_names)) | {-1: model.noise_name},
        thresholds=thresholds,
    )
