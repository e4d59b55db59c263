"""The decision-tree surrogate: faithful rules in the customer's units, exported safely."""

from __future__ import annotations

import csv
import io
import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.explain.rules import csv_cell, fit_rules, rules_csv, rules_json, rules_sql, rules_text


@pytest.fixture(scope="module")
def customers() -> tuple[pd.DataFrame, np.ndarray]:
    """Segments defined by thresholds a tree can learn exactly: recency > 90 is lapsed, else spend."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "recency days": rng.integers(1, 365, 1200).astype(float),
            'spend "total"': np.round(rng.gamma(2.0, 200.0, 1200), 2),
            "=cmd": rng.normal(size=1200),
        }
    )
    labels = np.where(frame["recency days"] > 90, 2, np.where(frame['spend "total"'] > 500, 1, 0))
    return frame, labels


def test_rules_are_faithful_on_held_out_customers_and_read_in_customer_units(customers):
    frame, labels = customers
    rules = fit_rules(frame, labels, segment_names=["Regulars", "Big spenders", "Lapsed"])
    assert rules.fidelity >= 0.98
    assert any(f == "recency days" and 89 <= t <= 91 for r in rules.rules for f, _, t in r.conditions)
    assert sum(r.support for r in rules.rules) == pytest.approx(1.0)
    lapsed = rules.importance[2]
    assert max(lapsed, key=lapsed.get) == "recency days"
    assert rules.importance[0]["=cmd"] < 0.05


def test_the_tree_depth_is_bounded_and_the_split_is_seeded(customers):
    frame, labels = customers
    shallow = fit_rules(frame, labels, max_depth=1)
    assert shallow.tree.get_depth() == 1 and len(shallow.rules) == 2
    again = fit_rules(frame, labels, max_depth=1)
    assert rules_json(shallow) == rules_json(again)


def test_json_text_and_csv_carry_the_rules(customers):
    frame, labels = customers
    rules = fit_rules(frame, labels, segment_names=["Regulars", "=Big spenders", "Lapsed"])
    data = rules_json(rules)
    assert {"fidelity", "rules"} <= data.keys()
    assert data["rules"][0]["conditions"][0].keys() == {"feature", "op", "threshold"}
    assert "agree with the segmentation on" in rules_text(rules)
    rows = list(csv.DictReader(io.StringIO(rules_csv(rules))))
    assert {row["segment_name"] for row in rows} >= {"Regulars", "'=Big spenders"}
    assert all(not row["rule"].startswith(("=", "+", "-", "@")) for row in rows)


@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2", "@cmd", "\tx"])
def test_formula_like_cells_are_escaped(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("plain") == "plain" and csv_cell(3) == 3


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_the_sql_case_expression_gives_the_trees_labels(engine, customers):
    frame, labels = customers
    frame = frame.copy()
    frame.loc[::50, "recency days"] = np.nan
    rules = fit_rules(
        frame.fillna({"recency days": 100.0}), labels, fill_values={"recency days": 100.0}, max_depth=5
    )
    expected = rules.predict(frame.fillna({"recency days": 100.0}))
    query = f"SELECT {rules_sql(rules)} AS segment FROM customers"
    if engine == "sqlite":
        connection = sqlite3.connect(":memory:")
        frame.to_sql("customers", connection, index=False)
        got = [row[0] for row in connection.execute(query)]
    else:
        connection = duckdb.connect()
        connection.register("customers", frame)
        got = [row[0] for row in connection.execute(query).fetchall()]
    assert got == expected.tolist()


def test_rules_need_two_segments_and_filled_values(customers):
    frame, labels = customers
    with pytest.raises(SegmentationError, match="at least two segments"):
        fit_rules(frame, np.zeros(len(frame), dtype=int))
    with pytest.raises(SegmentationError, match="fill missing cells"):
        fit_rules(frame.assign(**{"=cmd": np.nan}), labels)
