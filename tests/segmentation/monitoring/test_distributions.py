"""The distributions kept for charts are numpy's histogram and pandas' value counts on the same
arrays, and the PSI is the one computed from them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segmentation.monitoring.features import TOP_CATEGORIES, feature_test, psi_from_shares
from segmentation.monitoring.report import FeatureDrift

rng = np.random.default_rng(11)


def _histogram(values: np.ndarray, edges: list[float]) -> np.ndarray:
    present = values[~np.isnan(values)]
    return np.histogram(present, bins=edges)[0] / len(present)


@pytest.mark.parametrize(("n_reference", "n_current"), [(400, 300), (3_000, 2_000)])
def test_numeric_shares_are_numpys_histogram_on_the_psi_bins(n_reference, n_current):
    a, b = rng.gamma(2, 3, n_reference), rng.gamma(2.4, 3, n_current)
    a[:20] = np.nan
    result = feature_test("visits", pd.Series(a), pd.Series(b))
    shown = result.distribution
    assert shown is not None and shown.kind == "numeric"
    present = a[~np.isnan(a)]
    deciles = np.quantile(present, np.linspace(0.1, 0.9, 9))
    assert shown.edges[1:-1] == pytest.approx(deciles)
    assert (shown.edges[0], shown.edges[-1]) == (min(present.min(), b.min()), max(present.max(), b.max()))
    assert shown.reference == pytest.approx(_histogram(a, list(shown.edges)))
    assert shown.current == pytest.approx(_histogram(b, list(shown.edges)))
    assert sum(shown.reference) == pytest.approx(1) and sum(shown.current) == pytest.approx(1)
    assert result.psi == pytest.approx(psi_from_shares(np.array(shown.reference), np.array(shown.current)))


def test_an_empty_bin_below_a_decile_at_the_minimum_is_left_out_and_the_psi_is_unchanged():
    a = np.concatenate([np.zeros(300), rng.exponential(5, 700)])  # the first three deciles are 0
    b = np.concatenate([np.zeros(100), rng.exponential(6, 900)])
    result = feature_test("returns", pd.Series(a), pd.Series(b))
    shown = result.distribution
    assert shown is not None and shown.edges[0] == 0.0 and shown.edges[1] > 0
    assert shown.reference[0] >= 0.3 and shown.current[0] >= 0.1  # the zeros are in the first bin shown
    assert shown.reference == pytest.approx(_histogram(a, list(shown.edges)))
    assert shown.current == pytest.approx(_histogram(b, list(shown.edges)))
    edges = np.unique(np.quantile(a, np.linspace(0.1, 0.9, 9)))
    ref = np.histogram(a, bins=[-np.inf, *edges, np.inf])[0] / len(a)
    cur = np.histogram(b, bins=[-np.inf, *edges, np.inf])[0] / len(b)
    assert result.psi == pytest.approx(psi_from_shares(ref, cur))
    assert result.psi == pytest.approx(psi_from_shares(np.array(shown.reference), np.array(shown.current)))


def test_categorical_shares_are_pandas_value_counts_most_frequent_in_the_reference_first():
    a = pd.Series(rng.choice(["north", "south", "east", None], 600, p=[0.5, 0.3, 0.15, 0.05]))
    b = pd.Series(rng.choice(["north", "south", "east", "west"], 500, p=[0.4, 0.3, 0.2, 0.1]))
    result = feature_test("region", a, b, text=True)
    shown = result.distribution
    assert shown is not None and shown.kind == "categorical"
    assert shown.categories == ("north", "south", "east", "west")  # west: the current data only
    p = a.value_counts(normalize=True).reindex(list(shown.categories), fill_value=0.0)
    q = b.value_counts(normalize=True).reindex(list(shown.categories), fill_value=0.0)
    assert shown.reference == pytest.approx(p.to_numpy()) and shown.current == pytest.approx(q.to_numpy())
    assert result.psi == pytest.approx(psi_from_shares(np.array(shown.reference), np.array(shown.current)))


def test_beyond_twenty_categories_the_rarest_in_the_reference_are_one_other():
    names = [f"shop {i:02d}" for i in range(30)]
    a = pd.Series(np.repeat(names, np.arange(30, 0, -1) * 10)).sample(frac=1, random_state=0)
    b = pd.Series(rng.choice(names, 3_000))
    shown = feature_test("shop", a, b, text=True).distribution
    assert shown is not None and len(shown.categories) == TOP_CATEGORIES + 1
    top = a.value_counts(normalize=True)
    assert list(shown.categories[:-1]) == list(top.index[:TOP_CATEGORIES]) and shown.categories[-1] == "other"
    assert shown.reference[:-1] == pytest.approx(top.to_numpy()[:TOP_CATEGORIES])
    assert shown.reference[-1] == pytest.approx(top.to_numpy()[TOP_CATEGORIES:].sum())
    current = b.value_counts(normalize=True)
    assert shown.current[-1] == pytest.approx(1 - current[list(shown.categories[:-1])].sum())


def test_drift_json_keeps_its_feature_keys_and_adds_the_distribution():
    a, b = rng.normal(0, 1, 500), rng.normal(0.3, 1, 500)
    test = feature_test("spend", pd.Series(a), pd.Series(b))
    entry = json.loads(json.dumps(FeatureDrift(test, test.p_value, "drift").to_dict(distribution=True)))
    within_segment = FeatureDrift(test, test.p_value, "drift").to_dict()
    assert set(entry) - set(within_segment) == {"distribution"}
    assert {"feature", "test", "statistic", "p_value", "psi", "level"} <= set(within_segment)
    shown = entry["distribution"]
    assert set(shown) == {"kind", "edges", "reference", "current"}
    assert shown["reference"] == pytest.approx(_histogram(a, shown["edges"]), abs=1e-6)
    assert entry["psi"] == pytest.approx(
        psi_from_shares(np.array(shown["reference"]), np.array(shown["current"])), abs=1e-4
    )
    untested = feature_test("empty", pd.Series([np.nan, np.nan]), pd.Series(b))
    assert FeatureDrift(untested, None, "none").to_dict(distribution=True)["distribution"] is None
