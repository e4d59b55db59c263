"""Read-only figures behind the results page: what each chart plots, as plain JSON.

Computed from the frozen version (its model, metrics and profile) and, for the 2-D map, a
sample of its dataset. A version never changes, so the figures are cached by its hash.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache

from governance.models import SegmentVersion
from governance.selectors import version_model
from segmentation import read_input

logger = logging.getLogger(__name__)

MAP_SAMPLE = 2_000
CACHE_SECONDS = 24 * 60 * 60
# A feature whose name reads like money is what "value" means to a business reader.
VALUE_NAMES = re.compile(r"revenue|value|spend|monetary|sales|amount|basket|margin", re.IGNORECASE)
KEY_FIGURES = 3


def segment_cards(version: SegmentVersion) -> list[dict[str, Any]]:
    """Each segment with its key figures: the features that set it apart, against the average."""
    population = version.metrics.get("population_means", {})
    cards = []
    for row in version.profile:
        figures = []
        for feature, overall in population.items():
            mean = row.get(f"{feature}_mean")
            if mean is None or overall in (None, 0):
                continue
            figures.append(
                {
                    "feature": feature.replace("_", " "),
                    "mean": mean,
                    "average": overall,
                    "difference": (mean - overall) / abs(overall),
                }
            )
        figures.sort(key=lambda f: abs(f["difference"]), reverse=True)
        cards.append({**row, "share_percent": round(100 * row["share"], 1), "figures": figures[:KEY_FIGURES]})
    return cards


def version_charts(version: SegmentVersion) -> dict[str, Any]:
    key = f"charts:v1:{version.pk}:{version.version_hash}"
    charts = cache.get(key)
    if charts is None:
        charts = _charts(version)
        cache.set(key, charts, CACHE_SECONDS)
    return charts


def _charts(version: SegmentVersion) -> dict[str, Any]:
    names = [row["name"] for row in version.profile]
    features = list(version.metrics.get("features", []))
    charts: dict[str, Any] = {
        "label": version.label,
        "names": names,
        "sizes": [row["size"] for row in version.profile],
        "shares": [row["share"] for row in version.profile],
        "candidates": version.metrics.get("candidates", []),
        "selected_k": version.metrics.get("selected", {}).get("k"),
        "selected_algorithm": version.metrics.get("selected", {}).get("algorithm"),
    }
    value = next((f for f in features if VALUE_NAMES.search(f)), None)
    if value:
        totals = [row.get(f"{value}_mean", 0) * row["size"] for row in version.profile]
        whole = sum(totals) or 1.0
        charts["value"] = {"feature": value.replace("_", " "), "shares": [t / whole for t in totals]}
    charts["heatmap"] = _heatmap(version, features)
    stability = _stability(version.metrics.get("stability")) or _candidate_stability(charts["candidates"])
    if stability:
        charts["stability"] = stability
    charts["map"] = _map(version)
    # Only hierarchical winners carry one (see segmentation.clustering.dendrogram).
    charts["dendrogram"] = version.metrics.get("selected", {}).get("dendrogram")
    return charts


def _heatmap(version: SegmentVersion, features: list[str]) -> dict[str, Any] | None:
    """Each segment against the average: centroids in standard deviations where the model has
    them, otherwise the relative difference of the segment's mean from the population's."""
    labels = [f.replace("_", " ") for f in features]
    centroids = version.model.get("centroids")
    if centroids and len(centroids[0]) == len(features):
        return {"z": centroids, "features": labels, "unit": "sd"}
    if features and all(f"{f}_smd" in row for row in version.profile for f in features):
        # Standardised mean differences from the profile: any algorithm's segments, in sd.
        z = [[float(row[f"{f}_smd"]) for f in features] for row in version.profile]
        return {"z": z, "features": labels, "unit": "sd"}
    population = version.metrics.get("population_means", {})
    rows = []
    for row in version.profile:
        values = []
        for f in features:
            mean, overall = row.get(f"{f}_mean"), population.get(f)
            values.append((mean - overall) / abs(overall) if mean is not None and overall else 0.0)
        rows.append(values)
    return {"z": rows, "features": labels, "unit": "relative"} if rows and features else None


def _candidate_stability(candidates: list[dict[str, Any]]) -> dict[str, list[float]] | None:
    """Mean bootstrap adjusted Rand per k, as the sweep records it in each candidate."""
    scored = [c for c in candidates if isinstance(c.get("stability"), int | float)]
    return {"candidates": scored} if scored else None


def _stability(raw: Any) -> dict[str, list[float]] | None:
    """Stability per k, in whichever of the engine's shapes it comes: a list or a mapping."""
    points: list[tuple[float, float]] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict) and "k" in item:
                score = next((v for k, v in item.items() if k != "k" and isinstance(v, int | float)), None)
                if score is not None:
                    points.append((item["k"], score))
    elif isinstance(raw, dict):
        for k, v in raw.items():
            if str(k).isdigit() and isinstance(v, int | float):
                points.append((int(k), v))
    if not points:
        return None
    points.sort()
    return {"k": [p[0] for p in points], "score": [p[1] for p in points]}


def _scored_table(version: SegmentVersion) -> pd.DataFrame:
    """The table the version's model reads: the upload, or for a transaction log the
    engineered customer features (``features.csv``)."""
    if version.segmentation_spec.is_transactions:
        deliverable = version.deliverables.get(kind="features.csv")
        with deliverable.file.open("rb") as handle:
            return read_input(handle.read(), name="features.csv")
    dataset = version.run.dataset
    return dataset.read_table()


def _map(version: SegmentVersion) -> dict[str, Any] | None:
    """A 2-D PCA projection of a sample of the customers, each coloured by its segment."""
    run = version.run
    if run is None:
        return None
    try:
        model = version_model(version)
        if not callable(getattr(model, "transform", None)):
            return None
        frame = _scored_table(version)
        if len(frame) > MAP_SAMPLE:
            frame = frame.sample(MAP_SAMPLE, random_state=0)
        z = model.transform(frame)
        labels = model.predict(frame)
        centred = z - z.mean(axis=0)
        # PCA through the SVD: the first two right singular vectors are the principal axes.
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        xy = (
            centred @ axes[:2].T if axes.shape[0] >= 2 else np.column_stack([centred[:, 0], np.zeros(len(z))])
        )
        variance = singular**2 / max(float((singular**2).sum()), 1e-12)
    except Exception:  # the map is a nicety: never let it break the results page
        logger.exception("no 2-D map for version %s", version.pk)
        return None
    return {
        "x": np.round(xy[:, 0], 4).tolist(),
        "y": np.round(xy[:, 1], 4).tolist(),
        "segment": labels.tolist(),
        "explained": [round(float(v), 3) for v in variance[:2]],
        "sample": len(frame),
    }


def runs_agreement(first: SegmentVersion, second: SegmentVersion) -> float | None:
    """Adjusted Rand index of two versions' labels on the same customers (1 = identical).

    None when the versions were made from different data, where the question has no answer.
    """
    from sklearn.metrics import adjusted_rand_score

    if first.run is None or second.run is None or first.data_sha256 != second.data_sha256:
        return None
    try:
        labels = [version_model(v).predict(_scored_table(v)) for v in (first, second)]
    except Exception:  # a nicety like the map: never break the page
        logger.exception("no agreement for versions %s and %s", first.pk, second.pk)
        return None
    return float(adjusted_rand_score(labels[0], labels[1]))
