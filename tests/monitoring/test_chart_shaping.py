"""The charts' shaping on its own (no database): a segment a check has no customer of is at 0 on its
line, a categorical feature gets one pair of bars per category with the full name in the titles,
and a check stored before distributions has none to show."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
from django.template.loader import render_to_string

from monitoring.charts import distribution_chart, feature_distributions, share_chart
from segmentation.monitoring.features import feature_test
from segmentation.monitoring.report import FeatureDrift


def _check(pk: int, shares: list[tuple[int, str, float, float]]) -> SimpleNamespace:
    rows = [{"segment": s, "name": n, "reference_share": r, "current_share": c} for s, n, r, c in shares]
    when = dt.datetime(2026, 1, pk, 9, 0, tzinfo=dt.UTC)
    return SimpleNamespace(pk=pk, created_at=when, result={"segment_shares": {"segments": rows}})


def test_a_segment_without_customers_in_a_check_is_at_zero_on_its_line():
    newer = _check(2, [(-1, "noise", 0.0, 0.05), (0, "loyal", 0.6, 0.5), (1, "new", 0.4, 0.45)])
    older = _check(1, [(0, "loyal", 0.6, 0.62), (1, "new", 0.4, 0.38)])
    chart = share_chart([newer, older])
    assert chart is not None
    lines = {s["segment"]: [p["share"] for p in s["points"]] for s in chart["series"]}
    assert lines == {
        -1: ["0.0%", "0.0%", "5.0%"],
        0: ["60.0%", "62.0%", "50.0%"],
        1: ["40.0%", "38.0%", "45.0%"],
    }
    assert (
        chart["series"][1]["points"][1]["title"]
        == "0 loyal: 62.0% of the customers in the check of 2026-01-01 09:00"
    )
    assert [p["x"] for p in chart["series"][0]["points"]] == sorted(
        p["x"] for p in chart["series"][0]["points"]
    )


def test_a_categorical_feature_gets_a_pair_of_bars_per_category():
    rng = np.random.default_rng(3)
    plans = ["a very long plan name indeed", "basic", "family"]
    a = pd.Series(rng.choice(plans, 400, p=[0.2, 0.5, 0.3]))
    b = pd.Series(rng.choice(plans, 300, p=[0.4, 0.4, 0.2]))
    test = feature_test("plan", a, b, text=True)
    entry = FeatureDrift(test, test.p_value, "drift").to_dict(distribution=True)
    chart = distribution_chart(entry)
    shown = entry["distribution"]
    assert len(chart["bars"]) == 2 * len(shown["categories"]) and len(chart["axis"]) == len(
        shown["categories"]
    )
    reference = a.value_counts(normalize=True)
    for category, bar in zip(shown["categories"], chart["bars"][::2], strict=True):
        assert bar["title"] == f"plan {category}: {100 * reference[category]:.1f}% of the reference customers"
    svg = render_to_string("monitoring/_distribution_svg.html", {"d": chart})
    assert svg.count('class="bar"') == 6 and "a very long plan name indeed" in svg


def test_a_check_stored_before_distributions_has_none_to_show():
    drift = {"features": [{"feature": "spend", "level": "drift", "psi": 0.3}]}
    assert feature_distributions(drift) == {"stored_before": True, "charts": [], "untested": []}
