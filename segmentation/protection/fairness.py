"""Bias audit of a segmentation: who ends up in which segment, and what predicts protected groups.

For every protected attribute and every segment, membership of the segment is treated as the
"selection" of fairlearn's metrics: each group's selection rate (the share of the group that falls
in the segment), the demographic parity difference (largest minus smallest rate) and ratio
(smallest over largest), with fairlearn's own definitions computed through its ``MetricFrame``.
A group whose rate is below four fifths of the highest group's is flagged (the four-fifths rule).

The proxy check asks whether the clustering features can predict each protected attribute:
cross-validated ROC AUC of a logistic regression, and each feature's mutual information with the
attribute, so the strongest proxies can be named even when the attribute itself is not a feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError

BIAS_COLUMNS = [
    "attribute",
    "segment",
    "group",
    "group_size",
    "segment_share",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "share_of_segment",
    "four_fifths_flag",
]
FOUR_FIFTHS = 0.8
MISSING_GROUP = "(missing)"
PROXY_AUC_CONCERN = 0.7
# Groups this small give rates too noisy to flag; they are reported, never flagged.
MIN_GROUP_FOR_FLAG = 10


def _groups(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna(MISSING_GROUP).str.strip().replace("", MISSING_GROUP)


def bias_table(segments: Sequence[int] | pd.Series, protected: pd.DataFrame) -> pd.DataFrame:
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
        for segment in sorted(np.unique(labels)):
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
                        "share_of_segment": (rate * size / in_segment) if in_segment else 0.0,
                        "four_fifths_flag": bool(
                            size >= MIN_GROUP_FOR_FLAG and top > 0 and rate / top < FOUR_FIFTHS
                        ),
                    }
                )
    return pd.DataFrame(rows, columns=BIAS_COLUMNS)


def proxy_check(
    features: pd.DataFrame, protected: pd.DataFrame, *, random_state: int = 0, top: int = 3
) -> dict[str, dict[str, Any]]:
    """How well the clustering features predict each protected attribute, and the strongest proxies."""
    from sklearn.feature_selection import mutual_info_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = features.apply(pd.to_numeric, errors="coerce")
    x = x.fillna(x.median()).fillna(0.0).to_numpy(dtype=float)
    result: dict[str, dict[str, Any]] = {}
    for attribute in protected.columns:
        y = _groups(protected[attribute]).to_numpy()
        values, counts = np.unique(y, return_counts=True)
        entry: dict[str, Any] = {"groups": len(values), "auc": None, "proxies": []}
        if len(values) >= 2 and counts.min() >= 3:
            folds = int(min(5, counts.min()))
            scoring = "roc_auc" if len(values) == 2 else "roc_auc_ovr_weighted"
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
            entry["auc"] = float(np.mean(cross_val_score(model, x, y, cv=cv, scoring=scoring)))
            information = mutual_info_classif(x, y, random_state=random_state)
            order = np.argsort(-information)[:top]
            entry["proxies"] = [
                {"feature": str(features.columns[i]), "mutual_information": float(information[i])}
                for i in order
                if information[i] > 0.02
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
            f"(ratio {worst['demographic_parity_ratio']:.2f})."
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
    table = bias_table(segments, protected)
    proxies = proxy_check(features, protected, random_state=random_state)
    findings = bias_findings(table, proxies)
    findings["protected_columns"] = list(protected.columns)
    return table, findings
