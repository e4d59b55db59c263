"""The one entry point from a customer table and a spec to a fitted segmentation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from . import __version__
from .errors import SegmentationError
from .model import SegmentationModel, coerce_numeric
from .model_assign import NearestExemplars
from .model_preprocess import Preprocessor
from .profile import profile_segments
from .spec import SegmentationSpec

# The full silhouette is quadratic in rows (53 s at 100k on two cores); a 10k sample differs
# from it by about 0.002, far below the gaps that decide k.
SILHOUETTE_SAMPLE = 10_000
KMEANS_INITS = 10

Progress = Callable[[str, float], None]


def _no_progress(step: str, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class SegmentationResult:
    """What a run produces: the model, one label per customer, the profile and the metrics."""

    spec: SegmentationSpec
    model: SegmentationModel
    labels: pd.DataFrame  # customer_id, segment
    profile: pd.DataFrame
    metrics: dict[str, Any]


def segment(
    frame: pd.DataFrame, spec: SegmentationSpec, *, progress: Progress = _no_progress
) -> SegmentationResult:
    """Standardise the numeric columns, try K-Means for k in the spec's range, keep the k with
    the best silhouette, and describe the segments.

    Raises :class:`SegmentationError` for input that cannot be segmented: a missing column, a
    column with no numbers, one that is constant, or fewer customers than segments.
    """
    progress("reading", 0.05)
    ids, values, quality = _prepare(frame, spec)
    n = len(values)
    if n < spec.k_max + 1:
        raise SegmentationError(
            f"the table has {n} customer(s) but the spec asks for up to {spec.k_max} segments: "
            f"lower 'k_max' to at most {max(n - 1, 1)} or upload more customers"
        )
    distinct = len(values.drop_duplicates())
    if distinct < spec.k_min + 1:
        raise SegmentationError(
            f"the customers have only {distinct} distinct combination(s) of values, too few to "
            f"form {spec.k_min} segments"
        )

    # The model reads the same columns the spec names; the prepared values carry the parsed
    # numbers, so the preprocessor sees what the checks above saw.
    preprocessor = Preprocessor.fit(values, numeric=spec.numeric_columns)
    filled = values.fillna(pd.Series({c.name: c.fill for c in preprocessor.numeric}))
    z = preprocessor.transform(frame.loc[values.index])

    candidates, fits = _sweep(z, spec, distinct, progress)
    best = max(candidates, key=lambda c: (c["silhouette"], -c["k"]))
    progress("profiling", 0.85)

    model, labels = _ordered_model(
        spec.id_column, preprocessor, fits[best["k"]].cluster_centers_, frame.loc[values.index]
    )
    profile = profile_segments(filled, z, labels, model.n_segments)
    model = replace(model, segment_names=tuple(profile["name"]))

    metrics = {
        **quality,
        "customers": n,
        "features": list(spec.numeric_columns),
        "population_means": {c: float(filled[c].mean()) for c in filled.columns},
        "k_range": [spec.k_min, spec.k_max],
        "candidates": candidates,
        "selected": {
            "algorithm": "kmeans",
            "k": best["k"],
            "silhouette": best["silhouette"],
            "reason": (
                f"highest silhouette ({best['silhouette']:.3f}) among k = {spec.k_min}..{spec.k_max}"
                + ("; ties go to the smaller k" if _tied(candidates, best) else "")
            ),
        },
        "silhouette_sample_size": min(n, SILHOUETTE_SAMPLE),
    }
    progress("done", 1.0)
    label_frame = pd.DataFrame({"customer_id": ids.to_numpy(), "segment": labels})
    return SegmentationResult(spec=spec, model=model, labels=label_frame, profile=profile, metrics=metrics)


def _prepare(frame: pd.DataFrame, spec: SegmentationSpec) -> tuple[pd.Series, pd.DataFrame, dict[str, Any]]:
    """Check the columns, drop rows without an id, and read the features as numbers."""
    absent = [c for c in (spec.id_column, *spec.numeric_columns) if c not in frame.columns]
    if absent:
        raise SegmentationError(
            f"column(s) not found in the data: {', '.join(absent)}; "
            f"the data has {', '.join(map(str, frame.columns))}"
        )
    raw_ids = frame[spec.id_column].astype("string").str.strip()
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
    return cells.isna() | (cells.astype("string").str.strip() == "").fillna(False)


def _sweep(
    z: np.ndarray, spec: SegmentationSpec, distinct: int, progress: Progress
) -> tuple[list[dict[str, Any]], dict[int, KMeans]]:
    ks = [k for k in range(spec.k_min, spec.k_max + 1) if k < distinct]
    rng = np.random.default_rng(spec.random_state)
    sample = rng.choice(len(z), size=min(len(z), SILHOUETTE_SAMPLE), replace=False)
    sample.sort()
    candidates, fits = [], {}
    for i, k in enumerate(ks):
        progress(f"clustering k={k}", 0.1 + 0.7 * i / len(ks))
        fit = KMeans(n_clusters=k, n_init=KMEANS_INITS, random_state=spec.random_state).fit(z)
        labels = fit.labels_
        fits[k] = fit
        candidates.append(
            {
                "algorithm": "kmeans",
                "k": k,
                "silhouette": float(silhouette_score(z[sample], labels[sample])),
                "davies_bouldin": float(davies_bouldin_score(z, labels)),
                "calinski_harabasz": float(calinski_harabasz_score(z, labels)),
                "inertia": float(fit.inertia_),
            }
        )
    return candidates, fits


def _ordered_model(
    id_column: str, preprocessor: Preprocessor, centroids: np.ndarray, frame: pd.DataFrame
) -> tuple[SegmentationModel, np.ndarray]:
    """Number segments by size, largest first, and label every customer with the model itself.

    Labels come from the model's own predict, not from the clustering's training labels, so
    the delivered labels are by construction what the scorers and the API compute.
    """
    k = len(centroids)
    unordered = SegmentationModel(
        id_column=id_column,
        preprocessor=preprocessor,
        assigner=NearestExemplars(
            exemplars=tuple(tuple(map(float, row)) for row in centroids),
            segments=tuple(range(k)),
            n_segments=k,
        ),
        segment_names=tuple(str(i) for i in range(k)),
        metadata={"algorithm": "kmeans", "k": k},
    )
    counts = np.bincount(unordered.predict(frame), minlength=k)
    order = sorted(range(k), key=lambda i: (-counts[i], tuple(centroids[i])))
    model = unordered.reordered(order, segment_names=tuple(str(i) for i in range(k)))
    return model, model.predict(frame)


def _tied(candidates: list[dict[str, Any]], best: dict[str, Any]) -> bool:
    return sum(c["silhouette"] == best["silhouette"] for c in candidates) > 1


def version_hash(*, spec: dict[str, Any], model_sha256: str, data_sha256: str) -> str:
    """Content address of a segment version: spec, model, data and code hashed together."""
    payload = {
        "spec": spec,
        "model_sha256": model_sha256,
        "data_sha256": data_sha256,
        "code_version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
