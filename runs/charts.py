"""Read-only figures behind the results page: what each chart plots, as plain JSON.

Shaped from the frozen version (its model, metrics and profile); every metric is read through
:class:`segmentation.result.RunMetrics`, and the 2-D map is the one the engine stored. A version
never changes, so the figures are cached by its hash.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pandas as pd
from django.core.cache import cache

from governance.models import SegmentVersion
from governance.presentation import column_labels, feature_label, presented_profile
from governance.selectors import version_model, version_scored_labels, version_scored_table
from segmentation.compare import Segmentation, compare_segmentations
from segmentation.explain.average import versus_average
from segmentation.model.artefact import CentroidModel
from segmentation.result import Maps, RunMetrics
from segplatform.errors import ApplicationError

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 60 * 60
# A feature whose name reads like money is what "value" means to a business reader.
VALUE_NAMES = re.compile(r"revenue|value|spend|monetary|sales|amount|basket|margin", re.IGNORECASE)
KEY_FIGURES = 3


def segment_cards(version: SegmentVersion) -> list[dict[str, Any]]:
    """Each segment, by its presented name, with its key figures: the features that set it apart
    against the average, by the project's labels of its columns."""
    population = version.metrics_view.population_means
    labels = column_labels(version.project)
    cards = []
    for row in presented_profile(version):
        figures = []
        for feature, overall in population.items():
            mean = row.get(f"{feature}_mean")
            difference = versus_average(mean, overall)
            if difference is None:
                continue
            figures.append(
                {
                    "feature": feature_label(version.project, feature, labels),
                    "mean": mean,
                    "average": overall,
                    "difference": difference,
                }
            )
        figures.sort(key=lambda f: abs(f["difference"]), reverse=True)
        cards.append({**row, "share_percent": round(100 * row["share"], 1), "figures": figures[:KEY_FIGURES]})
    return cards


def version_charts(version: SegmentVersion) -> dict[str, Any]:
    # v3: the map's customers carry their figures (v2: the engine's map; v1: the portal's own).
    key = f"charts:v3:{version.pk}:{version.version_hash}"
    charts = cache.get(key)
    if charts is None:
        charts = _charts(version)
        cache.set(key, charts, CACHE_SECONDS)
    # Names are presentation, edited while the version is a draft: never cached with the figures.
    return {**charts, "names": [row["name"] for row in presented_profile(version)]}


def _charts(version: SegmentVersion) -> dict[str, Any]:
    metrics = version.metrics_view
    names = [row["name"] for row in version.profile]
    features = list(metrics.features)
    candidates = [c.to_dict() for c in metrics.candidates]
    charts: dict[str, Any] = {
        "label": version.label,
        "names": names,
        "sizes": [row["size"] for row in version.profile],
        "shares": [row["share"] for row in version.profile],
        "candidates": candidates,
        "selected_k": metrics.selected.k,
        "selected_algorithm": metrics.selected.algorithm,
    }
    value = next((f for f in features if VALUE_NAMES.search(f)), None)
    if value:
        totals = [row.get(f"{value}_mean", 0) * row["size"] for row in version.profile]
        whole = sum(totals) or 1.0
        charts["value"] = {"feature": value.replace("_", " "), "shares": [t / whole for t in totals]}
    charts["heatmap"] = _heatmap(version, features)
    stability = _stability(metrics) or _candidate_stability(metrics)
    if stability:
        charts["stability"] = stability
    charts["map"] = _map(metrics.maps)
    charts["points"] = _points(version, metrics.maps, features)
    # Only hierarchical winners carry one (see segmentation.clustering.dendrogram).
    dendrogram = metrics.selected.dendrogram
    charts["dendrogram"] = None if dendrogram is None else dendrogram.to_dict()
    return charts


def _heatmap(version: SegmentVersion, features: list[str]) -> dict[str, Any] | None:
    """Each segment against the average: centroids in standard deviations where the model has
    them, otherwise the relative difference of the segment's mean from the population's."""
    labels = [f.replace("_", " ") for f in features]
    # The model, not the metrics: a K-Means model of the first format keeps its centroids in sd.
    try:
        model = version_model(version)
    except ApplicationError:  # the profile's figures below still draw the heatmap
        model = None
    if isinstance(model, CentroidModel) and len(model.centroids[0]) == len(features):
        return {"z": [list(row) for row in model.centroids], "features": labels, "unit": "sd"}
    if features and all(f"{f}_smd" in row for row in version.profile for f in features):
        # Standardised mean differences from the profile: any algorithm's segments, in sd.
        z = [[float(row[f"{f}_smd"]) for f in features] for row in version.profile]
        return {"z": z, "features": labels, "unit": "sd"}
    population = version.metrics_view.population_means
    # A cell the comparison leaves undefined (no mean, an average of zero) is drawn as the average.
    rows = [
        [versus_average(row.get(f"{f}_mean"), population.get(f)) or 0.0 for f in features]
        for row in version.profile
    ]
    return {"z": rows, "features": labels, "unit": "relative"} if rows and features else None


def _candidate_stability(metrics: RunMetrics) -> dict[str, list[dict[str, Any]]] | None:
    """Mean bootstrap adjusted Rand per k, as the sweep records it in each candidate."""
    scored = [c.to_dict() for c in metrics.candidates if c.stability is not None]
    return {"candidates": scored} if scored else None


def _stability(metrics: RunMetrics) -> dict[str, list[float]] | None:
    """Stability per k from a top-level ``stability`` entry (no engine version wrote one)."""
    if not metrics.stability:
        return None
    return {"k": [p.k for p in metrics.stability], "score": [p.score for p in metrics.stability]}


def _map(maps: Maps | None) -> dict[str, Any] | None:
    """The engine's 2-D PCA map of a sample of the customers, each with its delivered segment.

    The engine draws it in the standardised features whatever the clustering distance (see
    :func:`segmentation.clustering.reduction.exploration_maps`). None for a version stored
    before the engine drew maps: the page says so rather than draw one of its own.
    """
    if maps is None or maps.pca is None:
        return None
    pca = maps.pca
    return {
        "x": list(pca.x),
        "y": list(pca.y),
        "segment": list(maps.segments[: pca.rows]),
        "explained": [round(v, 3) for v in pca.explained_variance_ratio[:2]],
        "sample": maps.sample_size,
    }


def _points(version: SegmentVersion, maps: Maps | None, features: list[str]) -> dict[str, Any] | None:
    """The map's customers with their figures in the features' own units: what a hover shows
    under each customer's id (a pseudonym where the id was personal data) and what the page's
    scatter of any two features plots. None when the table is gone (erased, past retention)."""
    if maps is None or not maps.customer_ids or not features:
        return None
    try:
        model = version_model(version)
        table = version_scored_table(version)
        id_column = model.id_column
        present = [f for f in features if f in table.columns]
        unique = table.drop_duplicates(id_column)
        unique.index = pd.Index(unique[id_column].astype("string").str.strip())
        picked = unique.reindex(list(maps.customer_ids))[present]
    except Exception:  # a nicety: the map still draws with segment hovers only
        logger.exception("no figures for the map of version %s", version.pk)
        return None
    # The stored table keeps cells as read; the model coerced them to numbers the same way.
    numbers = {f: pd.to_numeric(picked[f], errors="coerce") for f in present}
    values = {
        f.replace("_", " "): [None if pd.isna(v) else round(float(v), 4) for v in column]
        for f, column in numbers.items()
        if column.notna().any()
    }
    if not values:
        return None
    return {"ids": list(maps.customer_ids), "features": values, "key": _telling(version, list(values))}


def _telling(version: SegmentVersion, labels: list[str]) -> list[str]:
    """The features that most set segments apart (largest standardised gap from the average in any
    segment), first: the hover's key figures and the scatter's starting axes."""
    heatmap = _heatmap(version, list(version.metrics_view.features)) or {}
    spread = {
        label: max(abs(row[i]) for row in heatmap["z"])
        for i, label in enumerate(heatmap.get("features", []))
        if heatmap.get("z")
    }
    return sorted(labels, key=lambda label: -spread.get(label, 0.0))[: KEY_FIGURES + 1]


def same_data_labels(
    first: SegmentVersion, second: SegmentVersion
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Both versions' labels as their models score their own table, when both were made from
    the same data; None otherwise (where comparing labels has no answer) or when a model or
    table cannot be read (logged: the agreement is a nicety that must not break a page)."""
    if first.run is None or second.run is None or first.data_sha256 != second.data_sha256:
        return None
    try:
        return version_scored_labels(first), version_scored_labels(second)
    except Exception:
        logger.exception("no labels to compare for versions %s and %s", first.pk, second.pk)
        return None


def runs_agreement(first: SegmentVersion, second: SegmentVersion) -> float | None:
    """Adjusted Rand index of two versions' labels on the same customers (1 = identical).

    None when the versions were made from different data, where the question has no answer.
    """
    labels = same_data_labels(first, second)
    if labels is None:
        return None
    return compare_segmentations(Segmentation(labels=labels[0]), Segmentation(labels=labels[1])).agreement
