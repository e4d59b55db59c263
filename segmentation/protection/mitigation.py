"""A mitigation run: the same segmentation without the features that proxy a protected attribute.

The bias audit (:mod:`segmentation.protection.fairness`) names, for each protected attribute the
clustering features predict with a cross-validated AUC of at least ``PROXY_AUC_CONCERN``, its
strongest proxies. :func:`flagged_proxies` collects those; a run whose spec lists them in
``excluded_features`` clusters without them; :func:`side_by_side` then sets the two audits and the
two segmentations next to each other, so a reviewer sees what dropping the proxies bought (smaller
gaps between groups, a weaker proxy) and what it cost (separation, how many customers moved).

Dropping proxies is not a guarantee: other features can still carry the attribute together, which
the AUC after the drop shows, and the sentence says so when it stays high.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from .fairness import PROXY_AUC_CONCERN


def flagged_proxies(
    findings: Mapping[str, Any], features: tuple[str, ...] | list[str] | None = None
) -> list[str]:
    """The proxies the audit named for attributes predicted at or above the concern AUC.

    ``features``, when given, keeps only names the clustering used (a proxy check may have read a
    feature the run did not cluster on). Sorted, without repeats.
    """
    names: set[str] = set()
    for entry in (findings.get("proxies") or {}).values():
        auc = entry.get("auc")
        if auc is None or auc < PROXY_AUC_CONCERN:
            continue
        names.update(str(p["feature"]) for p in entry.get("proxies") or [])
    if features is not None:
        names &= set(features)
    return sorted(names)


def _largest_gap(rows: pd.DataFrame, attribute: str) -> dict[str, Any] | None:
    rows = rows[rows["attribute"] == attribute]
    if rows.empty:
        return None
    worst = rows.loc[rows["demographic_parity_difference"].astype(float).idxmax()]
    return {
        "segment": int(worst["segment"]),
        "difference": float(worst["demographic_parity_difference"]),
        "low": float(worst["demographic_parity_difference_low"]),
        "high": float(worst["demographic_parity_difference_high"]),
    }


def _flags(rows: pd.DataFrame, attribute: str) -> int:
    return int(rows.loc[rows["attribute"] == attribute, "four_fifths_flag"].astype(bool).sum())


def _agreement(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any] | None:
    """Adjusted Rand between the two labellings on the customers both labelled, and the share of
    customers whose segment kept most of its members together (best-matching segment)."""
    joined = (
        before[["customer_id", "segment"]]
        .astype({"customer_id": str})
        .merge(
            after[["customer_id", "segment"]].astype({"customer_id": str}),
            on="customer_id",
            suffixes=("_before", "_after"),
        )
    )
    if joined.empty:
        return None
    old, new = joined["segment_before"].to_numpy(), joined["segment_after"].to_numpy()
    table = pd.crosstab(old, new)
    stayed = int(table.to_numpy().max(axis=1).sum())
    return {
        "customers": len(joined),
        "adjusted_rand": float(adjusted_rand_score(old, new)),
        "share_with_their_group": stayed / len(joined),
    }


def side_by_side(
    *,
    dropped: list[str],
    before_rows: pd.DataFrame,
    before_findings: Mapping[str, Any],
    after_rows: pd.DataFrame,
    after_findings: Mapping[str, Any],
    before_labels: pd.DataFrame | None,
    after_labels: pd.DataFrame,
    before_quality: Mapping[str, Any],
    after_quality: Mapping[str, Any],
) -> dict[str, Any]:
    """The comparison a mitigation run stores in its ``bias.json`` under ``mitigation``.

    ``*_rows``: the bias tables (rows of ``bias.csv``); ``*_findings``: the audits' findings (their
    ``proxies``); ``*_labels``: customer_id and segment; ``*_quality``: ``k`` and ``silhouette``.
    """
    attributes = []
    for attribute in dict.fromkeys([*before_rows["attribute"].unique(), *after_rows["attribute"].unique()]):
        proxy_before = (before_findings.get("proxies") or {}).get(attribute, {})
        proxy_after = (after_findings.get("proxies") or {}).get(attribute, {})
        attributes.append(
            {
                "attribute": str(attribute),
                "auc_before": proxy_before.get("auc"),
                "auc_after": proxy_after.get("auc"),
                "largest_gap_before": _largest_gap(before_rows, attribute),
                "largest_gap_after": _largest_gap(after_rows, attribute),
                "four_fifths_flags_before": _flags(before_rows, attribute),
                "four_fifths_flags_after": _flags(after_rows, attribute),
            }
        )
    agreement = None if before_labels is None else _agreement(before_labels, after_labels)
    comparison = {
        "dropped_features": list(dropped),
        "attributes": attributes,
        "quality": {
            "k_before": before_quality.get("k"),
            "k_after": after_quality.get("k"),
            "silhouette_before": before_quality.get("silhouette"),
            "silhouette_after": after_quality.get("silhouette"),
        },
        "agreement": agreement,
    }
    comparison["summary"] = summary_sentences(comparison)
    return comparison


def _percent(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.0%}"


def summary_sentences(comparison: Mapping[str, Any]) -> list[str]:
    """What the drop bought and cost, one sentence per protected attribute and one for the cost."""
    dropped = ", ".join(comparison["dropped_features"]) or "no feature"
    sentences = []
    for entry in comparison["attributes"]:
        before, after = entry["largest_gap_before"], entry["largest_gap_after"]
        gap = (
            f"its largest gap between groups went from {_percent(before and before['difference'])} "
            f"to {_percent(after and after['difference'])}"
            + (
                f" (95% interval {_percent(after['low'])} to {_percent(after['high'])})"
                if after is not None
                else ""
            )
        )
        flags = f"four-fifths flags {entry['four_fifths_flags_before']} → {entry['four_fifths_flags_after']}"
        sentence = f"{entry['attribute']}: without {dropped}, {gap}; {flags}."
        auc_after = entry["auc_after"]
        if auc_after is not None:
            sentence += f" The remaining features predict {entry['attribute']} with AUC {auc_after:.2f}" + (
                f" (was {entry['auc_before']:.2f})" if entry["auc_before"] is not None else ""
            )
            sentence += (
                ": still a strong proxy together, so dropping the named features is not enough."
                if auc_after >= PROXY_AUC_CONCERN
                else "."
            )
        sentences.append(sentence)
    quality, agreement = comparison["quality"], comparison["agreement"]
    cost = f"Segments: k {quality['k_before']} → {quality['k_after']}"
    if quality["silhouette_before"] is not None and quality["silhouette_after"] is not None:
        cost += f", silhouette {quality['silhouette_before']:.2f} → {quality['silhouette_after']:.2f}"
    if agreement is not None:
        cost += (
            f"; {agreement['share_with_their_group']:.0%} of {agreement['customers']:,} customers share a "
            f"segment with most of their old segment (adjusted Rand {agreement['adjusted_rand']:.2f})"
        )
    sentences.append(cost + ".")
    return sentences
