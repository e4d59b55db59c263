"""Bias audit of a segmentation: who ends up in which segment, and what predicts protected groups.

For every protected attribute and every segment, membership of the segment is treated as the
"selection" of fairlearn's metrics: each group's selection rate (the share of the group that falls
in the segment), the demographic parity difference (largest minus smallest rate) and ratio
(smallest over largest), with fairlearn's own definitions computed through its ``MetricFrame``.
A group whose rate is below four fifths of the highest group's is flagged (the four-fifths rule).
Each segment's parity difference comes with a 95% bootstrap interval (customers resampled), so a
gap that a sample this size could show by chance reads as such.

The proxy check asks whether the clustering features can predict each protected attribute:
cross-validated ROC AUC of a logistic regression over every feature (categories one-hot encoded),
with the spread over folds as an interval, and each feature's mutual information with the
attribute, so the strongest proxies can be named even when the attribute itself is not a feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SegmentationError

BIAS_COLUMNS = [
    "attribute",
    "segment",
    "group",
    "group_size",
    "segment_share",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "demographic_parity_difference_low",
    "demographic_parity_difference_high",
    "share_of_segment",
    "four_fifths_flag",
]
FOUR_FIFTHS = 0.8
MISSING_GROUP = "(missing)"
PROXY_AUC_CONCERN = 0.7
# Groups this small give rates too noisy to flag; they are reported, never flagged.
MIN_GROUP_FOR_FLAG = 10
BOOTSTRAP_RESAMPLES = 200
# A text feature with more distinct values than this is an identifier or free text, not a proxy.
MAX_CATEGORIES = 50


def _groups(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna(MISSING_GROUP).str.strip().replace("", MISSING_GROUP)


def bias_table(
    segments: Sequence[int] | pd.Series, protected: pd.DataFrame, *, random_state: int = 0
) -> pd.DataFrame:
    """One row per protected attribute, segment and group (the rows of ``bias.csv``).

    ``segments`` and ``protected`` are aligned row by row (one row per customer).
    """
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        demographic_parity_ratio,
        selection_rate,
    )

    labels = np.asarray(segments)
    if len(labels) != len(protected):
        raise SegmentationError("the segment labels and the protected attributes have different lengths")
    rows = []
    for attribute in protected.columns:
        groups = _groups(protected[attribute]).to_numpy()
        intervals = parity_difference_intervals(labels, groups, random_state=random_state)
        for segment in sorted(np.unique(labels)):
            low, high = intervals[segment]
            member = (labels == segment).astype(int)
            frame = MetricFrame(
                metrics={"rate": selection_rate, "size": count},
                y_true=member,
                y_pred=member,
                sensitive_features=pd.Series(groups, name=attribute),
            )
            by_group = frame.by_group
            difference = demographic_parity_difference(member, member, sensitive_features=groups)
            ratio = demographic_parity_ratio(member, member, sensitive_features=groups)
            top = float(by_group["rate"].max())
            in_segment = int(member.sum())
            for group, values in by_group.iterrows():
                size, rate = int(values["size"]), float(values["rate"])
                rows.append(
                    {
                        "attribute": attribute,
                        "segment": int(segment),
                        "group": str(group),
                        "group_size": size,
                        "segment_share": rate,
                        "demographic_parity_difference": float(difference),
                        "demographic_parity_ratio": float(ratio),
                        "demographic_parity_difference_low": low,
                        "demographic_parity_difference_high": high,
                        "share_of_segment": (rate * size / in_segment) if in_segment else 0.0,
                        "four_fifths_flag": bool(
                            size >= MIN_GROUP_FOR_FLAG and top > 0 and rate / top < FOUR_FIFTHS
                        ),
                    }
                )
    return pd.DataFrame(rows, columns=BIAS_COLUMNS)


def parity_difference_intervals(
    labels: np.ndarray, groups: np.ndarray, *, random_state: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> dict[Any, tuple[float, float]]:
    """Each segment's 95% percentile-bootstrap interval of its demographic parity difference."""
    segments, segment_codes = np.unique(labels, return_inverse=True)
    _, group_codes = np.unique(groups, return_inverse=True)
    n_segments, n_groups = len(segments), int(group_codes.max()) + 1
    cells = segment_codes * n_groups + group_codes
    rng = np.random.default_rng(random_state)
    differences = np.empty((resamples, n_segments))
    for b in range(resamples):
        drawn = cells[rng.integers(0, len(cells), len(cells))]
        counts = np.bincount(drawn, minlength=n_segments * n_groups).reshape(n_segments, n_groups)
        sizes = counts.sum(axis=0)
        present = sizes > 0
        rates = counts[:, present] / sizes[present]
        differences[b] = rates.max(axis=1) - rates.min(axis=1)
    low, high = np.percentile(differences, [2.5, 97.5], axis=0)
    return {segment: (float(low[i]), float(high[i])) for i, segment in enumerate(segments)}


def encoded_features(features: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """The features as numbers, categories one-hot encoded; each encoded column's source feature."""
    parts, sources = [], []
    for column in features.columns:
        values = features[column]
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().sum() >= 0.9 * values.notna().sum():
            parts.append(numbers.fillna(numbers.median()).fillna(0.0).to_numpy(dtype=float)[:, None])
            sources.append(str(column))
            continue
        text = _groups(values)
        if text.nunique() > MAX_CATEGORIES:
            continue
        dummies = pd.get_dummies(text, dtype=float).to_numpy()
        parts.append(dummies)
        sources.extend([str(column)] * dummies.shape[1])
    if not parts:
        return np.zeros((len(features), 0)), []
    return np.hstack(parts), sources


def proxy_check(
    features: pd.DataFrame, protected: pd.DataFrame, *, random_state: int = 0, top: int = 3
) -> dict[str, dict[str, Any]]:
    """How well the clustering features predict each protected attribute, and the strongest proxies."""
    from sklearn.feature_selection import mutual_info_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, sources = encoded_features(features)
    result: dict[str, dict[str, Any]] = {}
    for attribute in protected.columns:
        y = _groups(protected[attribute]).to_numpy()
        values, counts = np.unique(y, return_counts=True)
        entry: dict[str, Any] = {
            "groups": len(values),
            "auc": None,
            "auc_low": None,
            "auc_high": None,
            "features_used": sorted(set(sources)),
            "proxies": [],
        }
        if len(values) >= 2 and counts.min() >= 3 and x.shape[1]:
            folds = int(min(5, counts.min()))
            scoring = "roc_auc" if len(values) == 2 else "roc_auc_ovr_weighted"
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
            scores = cross_val_score(model, x, y, cv=cv, scoring=scoring)
            entry["auc"] = float(np.mean(scores))
            # A t interval over the folds: rough (folds share training rows) but honest about spread.
            half = float(stats.t.ppf(0.975, folds - 1) * np.std(scores, ddof=1) / np.sqrt(folds))
            entry["auc_low"], entry["auc_high"] = entry["auc"] - half, min(1.0, entry["auc"] + half)
            information = mutual_info_classif(x, y, random_state=random_state)
            by_feature: dict[str, float] = {}
            for source, value in zip(sources, information, strict=True):
                by_feature[source] = max(by_feature.get(source, 0.0), float(value))
            ranked = sorted(by_feature.items(), key=lambda item: -item[1])[:top]
            entry["proxies"] = [
                {"feature": feature, "mutual_information": value} for feature, value in ranked if value > 0.02
            ]
        result[attribute] = entry
    return result


def bias_findings(table: pd.DataFrame, proxies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Plain-language findings and mitigation options from the bias table and the proxy check."""
    findings: list[str] = []
    flags = table[table["four_fifths_flag"]]
    for attribute in table["attribute"].unique():
        rows = table[table["attribute"] == attribute]
        worst = rows.loc[rows["demographic_parity_difference"].idxmax()]
        findings.append(
            f"{attribute}: segment {worst['segment']} shows the largest gap between groups — membership "
            f"rates differ by {worst['demographic_parity_difference']:.0%} "
            f"(95% interval {worst['demographic_parity_difference_low']:.0%} to "
            f"{worst['demographic_parity_difference_high']:.0%}; ratio {worst['demographic_parity_ratio']:.2f})."
        )
        for _, row in flags[flags["attribute"] == attribute].iterrows():
            findings.append(
                f"{attribute} = {row['group']}: only {row['segment_share']:.0%} fall in segment "
                f"{row['segment']}, below four fifths of the most represented group (four-fifths rule)."
            )
        proxy = proxies.get(attribute, {})
        if proxy.get("auc") is not None and proxy["auc"] >= PROXY_AUC_CONCERN:
            names = ", ".join(p["feature"] for p in proxy["proxies"]) or "the features together"
            findings.append(
                f"{attribute} can be predicted from the clustering features (cross-validated AUC "
                f"{proxy['auc']:.2f}); the strongest proxies are {names}. Segments can encode {attribute} "
                "even though it is not a clustering feature."
            )
    mitigations = []
    if len(flags) or any((p.get("auc") or 0) >= PROXY_AUC_CONCERN for p in proxies.values()):
        mitigations = [
            "Remove or coarsen the strongest proxy features and re-run; compare the versions.",
            "Do not use a flagged segment to grant or deny offers, credit or prices without a "
            "documented, lawful justification.",
            "Review segment names and descriptions for language tied to a protected group.",
            "Ask a reviewer to sign the audit off before the version is approved.",
        ]
    return {
        "flags": len(flags),
        "findings": findings
        or ["No segment departs from the four-fifths rule and no strong proxy was found."],
        "mitigation_options": mitigations,
        "proxies": proxies,
    }


def bias_audit(
    segments: Sequence[int] | pd.Series,
    protected: pd.DataFrame,
    features: pd.DataFrame,
    *,
    random_state: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The bias table and the findings (``bias.csv`` and ``bias.json``)."""
    table = bias_table(segments, protected, random_state=random_state)
    proxies = proxy_check(features, protected, random_state=random_state)
    findings = bias_findings(table, proxies)
    findings["protected_columns"] = list(protected.columns)
    return table, findings
