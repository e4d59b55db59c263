"""A decision-tree surrogate that explains segments as rules on the customer's own features.

The tree learns to predict each customer's segment from the unscaled features (so thresholds
read in the client's units: "recency days > 120"). It is trained on part of the customers and
its *fidelity*, the share of held-out customers it puts in the same segment as the segmentation
did, says how far the rules can be trusted as a description. Each leaf is one rule; rules are
delivered as text, JSON, a CSV for business users and a SQL ``CASE`` expression.

The SQL reproduces the tree exactly except on values within float32 rounding of a threshold
(scikit-learn's trees compare features as float32).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

from ..errors import SegmentationError

MAX_DEPTH = 4
MIN_LEAF_SHARE = 0.01
TEST_SHARE = 0.25
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Rule:
    """One leaf: every condition must hold; ``support`` and ``precision`` are on training rows."""

    segment: int
    name: str
    conditions: tuple[tuple[str, str, float], ...]  # (feature, "<=" | ">", threshold)
    support: float
    precision: float

    def text(self) -> str:
        if not self.conditions:
            return "every customer"
        return " AND ".join(f"{feature} {op} {threshold:.4g}" for feature, op, threshold in self.conditions)


@dataclass
class RuleSet:
    features: tuple[str, ...]
    segment_names: tuple[str, ...]
    rules: list[Rule]
    fidelity: float
    train_fidelity: float
    max_depth: int
    importance: dict[int, dict[str, float]]
    tree: DecisionTreeClassifier = field(repr=False)
    fill_values: dict[str, float] | None = None

    def predict(self, values: pd.DataFrame) -> np.ndarray:
        return self.tree.predict(values[list(self.features)].to_numpy(dtype=float)).astype(np.int64)


def fit_rules(
    values: pd.DataFrame,
    labels: np.ndarray,
    *,
    segment_names: list[str] | None = None,
    max_depth: int = MAX_DEPTH,
    balanced: bool = False,
    test_share: float = TEST_SHARE,
    random_state: int = 0,
    fill_values: dict[str, float] | None = None,
) -> RuleSet:
    """Fit the surrogate on ``values`` (customer units, no missing cells) to predict ``labels``.

    Noise labels (``-1``) are left out. ``balanced`` weights segments inversely to their size so
    small segments get rules of their own. Raises :class:`SegmentationError` with fewer than
    two segments or missing values.
    """
    labels = np.asarray(labels)
    keep = labels >= 0
    X = values.loc[keep].to_numpy(dtype=float)
    y = labels[keep]
    if len(np.unique(y)) < 2:
        raise SegmentationError("rules need at least two segments with customers in them")
    if np.isnan(X).any():
        raise SegmentationError("rules need every feature filled: fill missing cells before fitting rules")
    names = segment_names or [f"Segment {s}" for s in range(int(y.max()) + 1)]
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 and len(y) >= 8 else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_share, random_state=random_state, stratify=stratify
    )
    tree = DecisionTreeClassifier(
        max_depth=max_depth,
        min_samples_leaf=max(1, int(MIN_LEAF_SHARE * len(y_train))),
        class_weight="balanced" if balanced else None,
        random_state=random_state,
    ).fit(X_train, y_train)
    features = tuple(str(c) for c in values.columns)
    return RuleSet(
        features=features,
        segment_names=tuple(names),
        rules=_leaf_rules(tree, features, names, X_train, y_train),
        fidelity=float((tree.predict(X_test) == y_test).mean()),
        train_fidelity=float((tree.predict(X_train) == y_train).mean()),
        max_depth=max_depth,
        importance=_segment_importance(tree, features),
        tree=tree,
        fill_values=fill_values,
    )


def _leaf_rules(
    tree: DecisionTreeClassifier, features: tuple[str, ...], names: list[str], X: np.ndarray, y: np.ndarray
) -> list[Rule]:
    t = tree.tree_
    leaf_of = tree.apply(X)
    rules = []

    def walk(node: int, path: list[tuple[str, str, float]]) -> None:
        if t.children_left[node] == -1:
            members = y[leaf_of == node]
            segment = int(tree.classes_[np.argmax(t.value[node][0])])
            rules.append(
                Rule(
                    segment=segment,
                    name=names[segment],
                    conditions=_tighten(path),
                    support=float(len(members) / len(y)),
                    precision=float((members == segment).mean()) if len(members) else 0.0,
                )
            )
            return
        feature, threshold = features[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], [*path, (feature, "<=", threshold)])
        walk(t.children_right[node], [*path, (feature, ">", threshold)])

    walk(0, [])
    return sorted(rules, key=lambda r: (r.segment, -r.support))


def _tighten(path: list[tuple[str, str, float]]) -> tuple[tuple[str, str, float], ...]:
    """One lower and one upper bound per feature: the tightest along the path."""
    upper: dict[str, float] = {}
    lower: dict[str, float] = {}
    for feature, op, threshold in path:
        if op == "<=":
            upper[feature] = min(upper.get(feature, math.inf), threshold)
        else:
            lower[feature] = max(lower.get(feature, -math.inf), threshold)
    order = list(dict.fromkeys(f for f, _, _ in path))
    result = []
    for feature in order:
        if feature in lower:
            result.append((feature, ">", lower[feature]))
        if feature in upper:
            result.append((feature, "<=", upper[feature]))
    return tuple(result)


def _segment_importance(
    tree: DecisionTreeClassifier, features: tuple[str, ...]
) -> dict[int, dict[str, float]]:
    """Per segment, each feature's share of the drop in one-vs-rest Gini impurity over the tree's splits."""
    t = tree.tree_
    weights = t.weighted_n_node_samples
    result = {}
    for column, segment in enumerate(tree.classes_):
        share = t.value[:, 0, column] / np.maximum(t.value[:, 0, :].sum(axis=1), 1e-300)
        gini = 2 * share * (1 - share)
        totals = np.zeros(len(features))
        for node in np.flatnonzero(t.children_left != -1):
            left, right = t.children_left[node], t.children_right[node]
            drop = weights[node] * gini[node] - weights[left] * gini[left] - weights[right] * gini[right]
            totals[t.feature[node]] += max(drop, 0.0)
        total = totals.sum()
        result[int(segment)] = {
            f: float(v / total) if total else 0.0 for f, v in zip(features, totals, strict=True)
        }
    return result


# -- outputs ------------------------------------------------------------------------------------
def rules_text(ruleset: RuleSet) -> str:
    lines = [
        f"Decision-tree rules (depth at most {ruleset.max_depth}); they agree with the segmentation on "
        f"{ruleset.fidelity:.0%} of held-out customers.",
    ]
    for segment, name in enumerate(ruleset.segment_names):
        mine = [r for r in ruleset.rules if r.segment == segment]
        lines.append("")
        lines.append(f"Segment {segment}: {name}")
        if not mine:
            lines.append("  (no rule: the tree never predicts this segment at this depth)")
        for rule in mine:
            lines.append(
                f"  IF {rule.text()} THEN {name}  (covers {rule.support:.1%} of customers, {rule.precision:.0%} correct)"
            )
        top = sorted(ruleset.importance.get(segment, {}).items(), key=lambda kv: -kv[1])[:3]
        if top and top[0][1] > 0:
            lines.append("  most telling features: " + ", ".join(f"{f} ({v:.0%})" for f, v in top if v > 0))
    return "\n".join(lines) + "\n"


def rules_json(ruleset: RuleSet) -> dict[str, Any]:
    return {
        "fidelity": ruleset.fidelity,
        "train_fidelity": ruleset.train_fidelity,
        "max_depth": ruleset.max_depth,
        "features": list(ruleset.features),
        "rules": [
            {
                "segment": r.segment,
                "segment_name": r.name,
                "conditions": [{"feature": f, "op": op, "threshold": v} for f, op, v in r.conditions],
                "text": r.text(),
                "support": r.support,
                "precision": r.precision,
            }
            for r in ruleset.rules
        ],
        "importance": {str(s): v for s, v in ruleset.importance.items()},
    }


def csv_cell(value: object) -> object:
    """Neutralise text a spreadsheet would run as a formula (OWASP: prefix with a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def rules_csv(ruleset: RuleSet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # Every row repeats the tree's held-out fidelity, so a business user who opens only this
    # file still sees how far the rules can be trusted.
    writer.writerow(["segment", "segment_name", "rule", "share_of_customers", "precision", "model_fidelity"])
    for r in ruleset.rules:
        writer.writerow(
            [
                r.segment,
                csv_cell(r.name),
                csv_cell(r.text()),
                f"{r.support:.4f}",
                f"{r.precision:.4f}",
                f"{ruleset.fidelity:.4f}",
            ]
        )
    return buffer.getvalue()


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number(value: float) -> str:
    return repr(float(value))


def rules_sql(ruleset: RuleSet) -> str:
    """A plain ANSI ``CASE`` expression giving the segment number; columns double-quoted.

    Missing cells are replaced by the fill values the segmentation used, when known.
    """

    def column(feature: str) -> str:
        quoted = quote_identifier(feature)
        if ruleset.fill_values and feature in ruleset.fill_values:
            return f"COALESCE({quoted}, {_number(ruleset.fill_values[feature])})"
        return quoted

    branches = []
    for r in ruleset.rules:
        condition = " AND ".join(f"{column(f)} {op} {_number(v)}" for f, op, v in r.conditions) or "1 = 1"
        branches.append(f"  WHEN {condition} THEN {r.segment}")
    fallback = max(ruleset.rules, key=lambda r: r.support).segment
    return "CASE\n" + "\n".join(branches) + f"\n  ELSE {fallback}\nEND"
