"""The one entry point from a customer table and a spec to a fitted segmentation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .bounds import capped_k_max, k_cap_note
from .clustering.reduction import clustering_projection, exploration_maps, uncentred, unit_rows
from .clustering.structure import structure_test
from .clustering.sweep import SweepResult, sweep
from .data.customer_table import build_customer_table
from .data.features import RATIO_SCALE
from .data.io import id_text
from .data.missing import missing_mask
from .defaults import resolve_defaults, resolved_request
from .errors import SegmentationError
from .explain.out_of_time import out_of_time_check
from .explain.outcomes import adjust_for_multiple_tests, outcome_associations
from .explain.profile import profile_segments
from .explain.rules import RuleSet, fit_rules, rules_json, rules_sql
from .lifecycle.report import LifecycleReport, lifecycle_for_segments
from .lifecycle.trajectory import RATIO_SCALE_TRAJECTORY
from .model.artefact import SegmentationModel, coerce_numeric
from .model.assigners import Projection
from .model.assignment import Assignment, fit_assignment
from .model.preprocess import Preprocessor
from .result import SegmentationResult
from .spec import SegmentationSpec

# The full silhouette is quadratic in rows (53 s at 100k on two cores); a 10k sample differs
# from it by about 0.002, far below the gaps that decide k.
SILHOUETTE_SAMPLE = 10_000

Progress = Callable[[str, float], None]


def _no_progress(step: str, fraction: float) -> None:
    return None


def segment(
    frame: pd.DataFrame, spec: SegmentationSpec, *, progress: Progress = _no_progress
) -> SegmentationResult:
    """Standardise the numeric columns, run the sweep of algorithms over the spec's k range
    (:func:`segmentation.clustering.sweep.sweep`), keep the selected candidate, and describe the segments.

    Raises :class:`SegmentationError` for input that cannot be segmented: a missing column, a
    column with no numbers, one that is constant, or fewer customers than segments.
    """
    progress("reading", 0.05)
    # A transaction log becomes a customer table of engineered features first; from here on
    # the clustering sees a customer table and the spec it is clustered with.
    table = build_customer_table(frame, spec)
    requested, frame, spec = spec, table.frame, table.clustering_spec
    progress("features ready", 0.08)
    ids, values, quality = _prepare(frame, spec)
    # The spec's "auto" choices (log of heavy tails, PCA for many features) are made here, once,
    # on the prepared numbers; the version stores the resolved spec, the reasons go to metrics.
    asked_reduction = spec.reduction
    spec, defaults = resolve_defaults(
        spec,
        values,
        ratio_scale=RATIO_SCALE | RATIO_SCALE_TRAJECTORY if requested.is_transactions else frozenset(),
    )
    requested = resolved_request(requested, spec)
    n = len(values)
    spec.check_bounds(customers=n, distinct=len(values.drop_duplicates()))

    # The model reads the same columns the spec names; the prepared values carry the parsed
    # numbers, so the preprocessor sees what the checks above saw.
    # The spec's per-column transforms (log1p for skewed money and counts…); a column the spec
    # names but the data did not yield (an engineered feature left out) is skipped.
    transforms = {c: t for c, t in spec.transforms if c in spec.numeric_columns}
    preprocessor = Preprocessor.fit(values, numeric=spec.numeric_columns, transforms=transforms)
    rows = frame.loc[values.index]
    categorical = _categorical_columns(rows, spec)
    cosine = spec.distance == "cosine"
    if cosine and categorical:
        raise SegmentationError(
            "'distance': 'cosine' measures the angle between numeric profiles and cannot take "
            f"categorical columns ({', '.join(categorical)}): use 'euclidean' or 'mahalanobis' with them"
        )
    if cosine:  # angles seen from the zero customer, so mix counts and volume does not
        preprocessor = uncentred(preprocessor)
    filled = values.fillna(pd.Series({c.name: c.fill for c in preprocessor.numeric}))
    z = preprocessor.transform(rows)
    # PCA and the Mahalanobis whitening are one linear projection the model carries, so the
    # scorers compute the very space the clustering saw; profiles stay in standardised units.
    projection = clustering_projection(
        z,
        reduction=spec.reduction,
        distance=spec.distance,
        random_state=spec.random_state,
    )
    space = z if projection is None else projection.transform(z)
    # Cosine clusters unit rows; the model carries the same normalisation for its scorers.
    normalisation = "l2" if cosine else None
    space = unit_rows(space) if cosine else space

    # Before anything is named: is the space more clustered than random data of its shape?
    progress("testing for structure", 0.09)
    structure = structure_test(space, random_state=spec.random_state)
    # The customers cap k (sqrt(n / 2), and room for a minimum segment size each).
    k_max = capped_k_max(customers=n, k_min=spec.k_min, k_max=spec.k_max)
    swept = _sweep(space, rows, categorical, replace(spec, k_max=k_max), progress)
    progress("profiling", 0.85)

    algorithm = str(swept.selected["algorithm"])
    assignment = fit_assignment(
        algorithm,
        swept.estimator,
        space=swept.space,
        labels=swept.labels,
        preprocessor=preprocessor,
        projection=projection,
        rows=rows,
        categorical=categorical,
        random_state=spec.random_state,
    )
    model, labels, agreement, order = _ordered_model(
        spec.id_column, assignment, rows, algorithm=algorithm, normalisation=normalisation
    )
    swept = swept.numbered(swept.segments[order])  # per-segment figures under the delivered numbers
    outcomes = _columns(rows, spec.outcome_columns)
    profile = profile_segments(
        filled,
        z,
        labels,
        model.n_segments,
        categorical=_columns(rows, spec.categorical_columns),
        outcomes=outcomes,
        industry=spec.industry,
        neutral=structure["verdict"] == "none",
    )
    model = replace(model, segment_names=tuple(profile["name"]))
    progress("writing rules", 0.88)
    rules = _surrogate_rules(filled, labels, model, spec)

    metrics = {
        **quality,
        **table.details,
        "data_quality": _data_quality(table.quality, quality),
        "customers": n,
        "features": list(spec.numeric_columns),
        "population_means": {c: float(filled[c].mean()) for c in filled.columns},
        "k_range": [spec.k_min, k_max],
        "structure": structure,
        "candidates": swept.candidates,
        "selected": {
            **swept.selected,
            "assignment": _assignment_note(assignment, labels, agreement),
            "assignment_agreement": agreement,
        },
        "silhouette_sample_size": min(n, SILHOUETTE_SAMPLE),
        "space": _space(projection, spec),
        # t-SNE (~6 s of CPU) only when the user asks for a reduction: the default run stays fast.
        "maps": exploration_maps(
            z,
            labels,
            ids.to_numpy(),
            random_state=spec.random_state,
            tsne=asked_reduction not in ("none", "auto"),
            umap=spec.reduction == "umap",
        ),
    }
    if defaults is not None:
        metrics["defaults"] = defaults
    capped = k_cap_note(customers=n, k_min=spec.k_min, k_max=spec.k_max)
    if capped is not None:
        metrics["k_cap"] = {"requested_k_max": spec.k_max, "k_max": k_max, "note": capped}
    if rules is not None:
        metrics["rules"] = {**rules_json(rules), "sql_case": rules_sql(rules)}
    # The declared outcomes and the behaviour after 'as_of' are one family of tests: a run that
    # checks more outcomes pays for it in every adjusted p-value.
    declared = (
        []
        if outcomes is None
        else outcome_associations(labels, outcomes, seed=spec.random_state, adjust=False)
    )
    later = out_of_time_check(labels, ids.to_numpy(), table.future, seed=spec.random_state)
    adjust_for_multiple_tests([*declared, *later["outcomes"]])
    if outcomes is not None:
        metrics["outcomes"] = declared
    metrics["out_of_time"] = later
    label_frame = pd.DataFrame({"customer_id": ids.to_numpy(), "segment": labels})
    memberships = model.predict_proba(rows)
    if memberships is not None:
        # A mixture's soft assignment: how sure the model is of each customer's segment.
        membership = memberships[np.arange(n), labels]
        label_frame["membership"] = np.round(membership, 6)
        metrics["selected"]["memberships"] = _membership_summary(membership)
    lifecycle: LifecycleReport | None = None
    if table.events is not None:
        progress("lifecycle", 0.9)
        lifecycle, profile = lifecycle_for_segments(
            table.events, table.features, label_frame, profile, requested, as_of=str(table.details["as_of"])
        )
        metrics["lifecycle"] = lifecycle.summary
    progress("done", 1.0)
    return SegmentationResult(
        spec=requested,
        model=model,
        labels=label_frame,
        profile=profile,
        metrics=metrics,
        features=table.features,
        attributes=table.attributes,
        rules=rules,
        clustered_features=(*spec.numeric_columns, *categorical),
        lifecycle=lifecycle,
    )


def _surrogate_rules(
    filled: pd.DataFrame, labels: np.ndarray, model: SegmentationModel, spec: SegmentationSpec
) -> RuleSet | None:
    """Readable rules for the segments, or None where a tree cannot be grown (one segment)."""
    try:
        return fit_rules(
            filled,
            labels,
            segment_names=list(model.segment_names),
            random_state=spec.random_state,
            fill_values={c: float(v) for c, v in filled.median().items()},
        )
    except SegmentationError:
        return None


def _data_quality(reading: dict[str, Any], prepared: dict[str, Any]) -> dict[str, Any]:
    """What was dropped or filled, and why: shown on the run page and kept in metrics.json."""
    return {
        **reading,
        "missing_feature_values": prepared["missing_total"],
        "unparsable_cells": int(sum(prepared["unparsable"].values())),
    }


def _prepare(frame: pd.DataFrame, spec: SegmentationSpec) -> tuple[pd.Series, pd.DataFrame, dict[str, Any]]:
    """Check the columns, drop rows without an id, and read the features as numbers."""
    absent = [c for c in (spec.id_column, *spec.numeric_columns) if c not in frame.columns]
    if absent:
        raise SegmentationError(
            f"column(s) not found in the data: {', '.join(absent)}; "
            f"the data has {', '.join(map(str, frame.columns))}"
        )
    raw_ids = id_text(frame[spec.id_column])
    has_id = raw_ids.notna() & (raw_ids != "")
    kept = frame.loc[has_id]
    ids = raw_ids[has_id]
    duplicated = ids[ids.duplicated(keep=False)]
    if not duplicated.empty:
        example = duplicated.iloc[0]
        raise SegmentationError(
            f"customer id '{example}' appears {int((ids == example).sum())} times in "
            f"'{spec.id_column}': a customer table needs one row per customer"
        )
    if kept.empty:
        raise SegmentationError(f"no row has a value in the id column '{spec.id_column}'")

    values = pd.DataFrame({c: coerce_numeric(kept[c]) for c in spec.numeric_columns}, index=kept.index)
    blank = {c: int(_blank(kept[c]).sum()) for c in spec.numeric_columns}
    missing = {c: int(values[c].isna().sum()) for c in spec.numeric_columns}
    for column in spec.numeric_columns:
        present = values[column].dropna()
        if present.empty:
            raise SegmentationError(f"column '{column}' has no numeric values")
        if not np.isfinite(present).all():
            raise SegmentationError(f"column '{column}' holds infinite values")
        if present.nunique() == 1:
            raise SegmentationError(
                f"column '{column}' has the same value for every customer, so it cannot tell "
                "segments apart: remove it from 'numeric_columns'"
            )
    quality = {
        "rows": len(frame),
        "rows_without_id": int((~has_id).sum()),
        "missing": missing,
        "missing_total": int(sum(missing.values())),
        "unparsable": {c: missing[c] - blank[c] for c in spec.numeric_columns},
        "imputation": "median",
    }
    return ids, values, quality


def _blank(cells: pd.Series) -> pd.Series:
    # A missing token (NA, null, -) is missing as a blank is, not an unparsable number.
    return missing_mask(cells)


def _sweep(
    z: np.ndarray, rows: pd.DataFrame, categorical: list[str], spec: SegmentationSpec, progress: Progress
) -> SweepResult:
    return sweep(
        z,
        categorical=rows[categorical].to_numpy(dtype=object) if categorical else None,
        algorithms=list(spec.algorithms) if spec.algorithms else None,
        k_min=spec.k_min,
        k_max=spec.k_max,
        random_state=spec.random_state,
        stability_resamples=spec.stability_resamples,
        selection=spec.selection,
        progress=lambda step, fraction: progress(step, 0.1 + 0.7 * fraction),
    )


def _categorical_columns(rows: pd.DataFrame, spec: SegmentationSpec) -> list[str]:
    return [c for c in spec.categorical_columns if c in rows.columns]


def _columns(rows: pd.DataFrame, named: tuple[str, ...]) -> pd.DataFrame | None:
    """The named columns that the data has, or None when it has none of them."""
    names = [c for c in named if c in rows.columns]
    return rows[names] if names else None


def _space(projection: Projection | None, spec: SegmentationSpec) -> dict[str, Any]:
    """What the clustering space is: the reduction, the distance and the projection's width."""
    return {
        "reduction": spec.reduction,
        "distance": spec.distance,
        "dimensions": len(spec.numeric_columns) if projection is None else len(projection.components),
        "explained_variance_ratio": [] if projection is None else list(projection.explained_variance_ratio),
    }


def _ordered_model(
    id_column: str,
    assignment: Assignment,
    rows: pd.DataFrame,
    *,
    algorithm: str,
    normalisation: str | None = None,
) -> tuple[SegmentationModel, np.ndarray, float, list[int]]:
    """Number segments by size, largest first, and label every customer with the model itself.

    Labels come from the model's own predict, not from the clustering's training labels, so
    the delivered labels are by construction what the scorers and the API compute. Also
    returns the share of customers the model labels as the clustering did, and the order:
    delivered segment ``s`` is the assigner's segment ``order[s]``.
    """
    k = assignment.assigner.n_segments
    unordered = SegmentationModel(
        id_column=id_column,
        preprocessor=assignment.preprocessor,
        projection=assignment.projection,
        normalisation=normalisation,
        assigner=assignment.assigner,
        segment_names=tuple(str(i) for i in range(k)),
        metadata={"algorithm": algorithm, "k": k},
    )
    predicted = unordered.predict(rows)
    agreement = float(np.mean(predicted == assignment.labels))
    counts = np.bincount(predicted[predicted >= 0], minlength=k)
    order = sorted(range(k), key=lambda i: (-counts[i], i))
    model = unordered.reordered(order, segment_names=tuple(str(i) for i in range(k)))
    return model, model.predict(rows), agreement, order


UNCERTAIN_MEMBERSHIP = 0.8


def _membership_summary(membership: np.ndarray) -> dict[str, float]:
    return {
        "mean": float(membership.mean()),
        "uncertain_threshold": UNCERTAIN_MEMBERSHIP,
        # Customers the mixture places with less than 80% probability sit between segments.
        "uncertain_share": float((membership < UNCERTAIN_MEMBERSHIP).mean()),
    }


def _assignment_note(assignment: Assignment, labels: np.ndarray, agreement: float) -> str:
    noise = int((labels < 0).sum())
    note = (
        f"new customers are labelled by {assignment.rule}, the same arithmetic as the SQL scorers; "
        f"it gives {agreement:.1%} of these customers the segment the clustering gave them"
    )
    return note + (f"; {noise:,} customer(s) are left unassigned as noise" if noise else "")


def version_hash(*, spec: dict[str, Any], model_sha256: str, data_sha256: str) -> str:
    """Content address of a segment version: spec, model, data and code hashed together."""
    payload = {
        "spec": spec,
        "model_sha256": model_sha256,
        "data_sha256": data_sha256,
        "code_version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
