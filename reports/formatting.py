"""How numbers, names and labels read in the deck and the PDF (one place, so both agree)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from segmentation.explain.names import column_label

MINUS = "\u2212"
ELLIPSIS = "\u2026"
DASH = "\u2013"  # stands for a missing figure

_ALGORITHMS = {
    "kmeans": "k-means",
    "k_means": "k-means",
    "minibatch_kmeans": "mini-batch k-means",
    "gmm": "Gaussian mixture",
    "gaussian_mixture": "Gaussian mixture",
    "agglomerative": "agglomerative (Ward)",
    "kprototypes": "k-prototypes",
}


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def format_number(value: float | None, *, signed: bool = False) -> str:
    """A figure rounded for reading: fewer decimals as the magnitude grows."""
    if _missing(value):
        return DASH
    magnitude = abs(value)
    digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    text = f"{magnitude:,.{digits}f}"
    if "." in text:
        # 9.80 reads as 9.8 and 3.00 as 3: trailing zeros suggest precision the data lacks.
        text = text.rstrip("0").rstrip(".")
    if value < 0 and text.strip("0.,"):
        return MINUS + text
    return ("+" + text) if signed and value > 0 else text


def format_count(value: int) -> str:
    return f"{value:,}"


def format_share(value: float | None) -> str:
    """A proportion as a percentage: one decimal below 10 % so small segments stay distinct."""
    if _missing(value):
        return DASH
    pct = value * 100
    return f"{pct:.1f}%" if abs(pct) < 10 else f"{pct:.0f}%"


def format_signed_pct(value: float | None) -> str:
    if _missing(value):
        return DASH
    pct = round(value * 100)
    if pct == 0:
        return "±0%"
    return f"+{pct:,}%" if pct > 0 else f"{MINUS}{abs(pct):,}%"


def format_metric(value: float | None, digits: int) -> str:
    if _missing(value):
        return DASH
    text = f"{abs(value):,.{digits}f}"
    return MINUS + text if value < 0 else text


# The labels a project gave its columns, in force while one document's content is derived
# (:func:`column_labels_in_force`). A context variable rather than a parameter: every sentence
# builder of both documents names features, and threading the labels through each would touch
# them all for one lookup; it stays scoped to one call, per thread and per task.
_LABELS: ContextVar[Mapping[str, str] | None] = ContextVar("column_labels", default=None)


@contextmanager
def column_labels_in_force(labels: Mapping[str, str] | None) -> Iterator[None]:
    token = _LABELS.set(dict(labels or {}))
    try:
        yield
    finally:
        _LABELS.reset(token)


def feature_label(feature: str) -> str:
    """The project's label for the column, else its readable words: 'recency_days' ->
    'Recency days', 'MonthlyCharges' -> 'Monthly charges'; an acronym stays ('CLV')."""
    label = (_LABELS.get() or {}).get(feature)
    if label:
        return label
    return column_label(feature) if feature.strip() else feature


def algorithm_label(algorithm: str) -> str:
    return _ALGORITHMS.get(algorithm.lower(), algorithm.replace("_", " "))


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis so a name fits a chart label or tile."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-\u2013") + ELLIPSIS
