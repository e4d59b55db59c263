"""compare_segmentations against scikit-learn, scipy and pandas, and against real runs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score

from segmentation import SegmentationError, SegmentationSpec, load_model, segment
from segmentation.compare import (
    Segmentation,
    SpecChange,
    centroid_shifts,
    compare_segmentations,
    scored_labels,
    spec_changes,
)
from segmentation.synthetic.customers import customer_table

NUMERIC = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]


def _labels(ids, segments) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame({"customer_id": [str(i) for i in ids], "segment": list(segments)})


def _random_pair(seed: int):  # type: ignore[no-untyped-def]
    """Two labellings of overlapping customer sets, in different orders, with noise (-1)."""
    rng = np.random.default_rng(seed)
    old_ids = rng.permutation(400)[: rng.integers(150, 400)]
    new_ids = rng.permutation(np.arange(100, 500))[: rng.integers(150, 400)]
    old = _labels(old_ids, rng.integers(-1, rng.integers(2, 7), size=len(old_ids)))
    new = _labels(new_ids, rng.integers(-1, rng.integers(2, 7), size=len(new_ids)))
    return old, new


def _common(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    return old.merge(new, on="customer_id", suffixes=("_old", "_new"))


@pytest.mark.parametrize("seed", range(12))
def test_agreement_and_migration_are_scikit_learns_and_pandas_on_the_common_customers(seed):
    old, new = _random_pair(seed)
    comparison = compare_segmentations(Segmentation(labels=old), Segmentation(labels=new))
    joined = _common(old, new)
    assert comparison.common_customers == len(joined)
    assert comparison.agreement == adjusted_rand_score(joined["segment_old"], joined["segment_new"])
    pd.testing.assert_frame_equal(
        comparison.migration.frame(),
        pd.crosstab(joined["segment_old"], joined["segment_new"]).rename_axis(index="old", columns="new"),
        check_dtype=False,
    )


@pytest.mark.parametrize("seed", range(12))
def test_the_alignment_is_scipys_hungarian_matching_and_no_other_keeps_more_customers(seed):
    old, new = _random_pair(seed)
    comparison = compare_segmentations(Segmentation(labels=old), Segmentation(labels=new))
    joined = _common(old, new)
    joined = joined[(joined["segment_old"] >= 0) & (joined["segment_new"] >= 0)]
    overlap = pd.crosstab(joined["segment_old"], joined["segment_new"])
    rows, columns = linear_sum_assignment(overlap.to_numpy(), maximize=True)
    expected = {
        (int(overlap.index[r]), int(overlap.columns[c]))
        for r, c in zip(rows, columns, strict=True)
        if overlap.iloc[r, c] > 0
    }
    assert {(m.old_segment, m.new_segment) for m in comparison.alignment} == expected
    # brute force: every one-to-one pairing keeps at most as many customers
    kept = sum(m.customers for m in comparison.alignment)
    table = overlap.to_numpy()
    small, large = sorted(table.shape)
    matrix = table if table.shape[0] == small else table.T
    best = max(
        sum(matrix[i, p[i]] for i in range(small)) for p in itertools.permutations(range(large), small)
    )
    assert kept == best
    for m in comparison.alignment:
        in_old = int((joined["segment_old"] == m.old_segment).sum())
        in_new = int((joined["segment_new"] == m.new_segment).sum())
        assert m.jaccard == pytest.approx(m.customers / (in_old + in_new - m.customers))
    matched_old = {m.old_segment for m in comparison.alignment}
    assert set(comparison.unmatched_old) == set(overlap.index) - matched_old


def test_identical_labellings_agree_fully_and_align_one_to_one():
    labels = _labels(range(60), [i % 3 for i in range(60)])
    renamed = labels.assign(segment=(labels["segment"] + 1) % 3).sample(frac=1.0, random_state=1)
    comparison = compare_segmentations(Segmentation(labels=labels), Segmentation(labels=renamed))
    assert comparison.agreement == 1.0
    assert {(m.old_segment, m.new_segment, m.jaccard) for m in comparison.alignment} == {
        (0, 1, 1.0),
        (1, 2, 1.0),
        (2, 0, 1.0),
    }
    assert comparison.unmatched_old == comparison.unmatched_new == ()


def test_without_labels_on_both_sides_or_common_customers_there_is_no_agreement():
    labels = _labels(range(10), [0, 1] * 5)
    assert compare_segmentations(Segmentation(labels=labels), Segmentation()).agreement is None
    apart = compare_segmentations(
        Segmentation(labels=labels), Segmentation(labels=_labels(range(10, 20), [0] * 10))
    )
    assert apart.common_customers == 0 and apart.agreement is None and apart.alignment == ()
    assert apart.migration.counts == ()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (pd.DataFrame({"customer_id": ["a", "a"], "segment": [0, 1]}), "customer 'a' more than once"),
        (pd.DataFrame({"id": ["a"], "segment": [0]}), "no column(s) customer_id"),
    ],
)
def test_labels_that_cannot_be_joined_are_refused_with_a_message(labels, message):
    with pytest.raises(SegmentationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compare_segmentations(Segmentation(labels=labels), Segmentation(labels=_labels(["a"], [0])))


def _reference_shifts(old: list[dict], new: list[dict], features: list[str]) -> list[tuple[int, int, dict]]:
    """The nearest old segment by standardised squared distance, written with NumPy."""
    a = np.array([[row[f"{f}_mean"] for f in features] for row in old], dtype=float)
    b = np.array([[row[f"{f}_mean"] for f in features] for row in new], dtype=float)
    spread = np.vstack([a, b]).std(axis=0, ddof=1)
    spread[spread == 0] = 1.0
    out = []
    for j, centre in enumerate(b):
        i = int(np.argmin((((a - centre) / spread) ** 2).sum(axis=1)))
        out.append((j, i, {f: float(centre[k] - a[i, k]) for k, f in enumerate(features)}))
    return out


def test_centroid_shifts_pair_each_new_segment_with_the_nearest_old_one():
    rng = np.random.default_rng(5)
    features = ["spend", "visits", "flat"]

    def profile(k: int) -> list[dict]:
        return [
            {
                "segment": s,
                "name": f"S{s}",
                **{
                    f"{f}_mean": float(v) for f, v in zip(features, [*rng.normal(0, 50, 2), 3.0], strict=True)
                },
            }
            for s in range(k)
        ]

    old, new = profile(4), profile(3)
    new[1]["extra_mean"] = 1.0  # a feature only one side has is not compared
    shifts = centroid_shifts(old, new)
    expected = _reference_shifts(old, new, features)
    assert [(s.segment, s.closest_old_segment) for s in shifts] == [(j, i) for j, i, _ in expected]
    for shift, (_, i, moved) in zip(shifts, expected, strict=True):
        assert shift.shift == pytest.approx(moved)
        assert (shift.name, shift.closest_old_name) == (f"S{shift.segment}", f"S{i}")
    assert centroid_shifts(pd.DataFrame(old), pd.DataFrame(new)) == shifts
    assert centroid_shifts(old, [{"segment": 0, "name": "x", "other_mean": 1.0}]) == ()


def test_spec_changes_list_every_stored_key_that_differs():
    old = {"id_column": "id", "numeric_columns": ["a", "b"], "k_min": 2, "k_max": 6, "reduction": "pca"}
    new = {"id_column": "id", "numeric_columns": ["a"], "k_min": 2, "k_max": 4, "algorithms": ["gmm"]}
    assert spec_changes(old, new) == (
        SpecChange("algorithms", None, ["gmm"]),
        SpecChange("k_max", 6, 4),
        SpecChange("numeric_columns", ["a", "b"], ["a"]),
        SpecChange("reduction", "pca", None),
    )
    assert spec_changes(old, dict(old)) == ()


@pytest.fixture(scope="module")
def two_runs():  # type: ignore[no-untyped-def]
    frame, _ = customer_table(300, seed=4)
    base = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    first = segment(frame, SegmentationSpec.from_dict({**base, "k_min": 3, "k_max": 3}))
    second = segment(
        frame, SegmentationSpec.from_dict({**base, "numeric_columns": NUMERIC[:3], "k_min": 4, "k_max": 4})
    )
    return frame, first, second


def test_two_runs_on_one_table_compare_as_their_labels_and_their_models_do(two_runs):
    frame, first, second = two_runs
    comparison = compare_segmentations(Segmentation.from_result(first), Segmentation.from_result(second))
    assert comparison.common_customers == len(first.labels) == 300
    assert comparison.agreement == adjusted_rand_score(first.labels["segment"], second.labels["segment"])
    assert (comparison.old_k, comparison.new_k) == (3, 4)
    assert comparison.new_selected == second.metrics_view.selected
    assert [c.key for c in comparison.spec_changes] == ["k_max", "k_min", "numeric_columns"]
    assert [p.segment for p in comparison.segments] == [0, 1, 2, 3] and comparison.segments[3].old is None
    assert comparison.segments[0].new.size == int((second.labels["segment"] == 0).sum())
    assert len(comparison.centroid_shifts) == 4
    assert set(comparison.centroid_shifts[0].shift) == set(NUMERIC[:3])
    for match in comparison.alignment:
        old_row = first.profile.set_index("segment").loc[match.old_segment]
        new_row = second.profile.set_index("segment").loc[match.new_segment]
        assert match.mean_shift == pytest.approx(
            {f: new_row[f"{f}_mean"] - old_row[f"{f}_mean"] for f in NUMERIC[:3]}
        )
    # scoring the table with both stored models gives the same comparison
    scored = [scored_labels(load_model(r.model.to_json()), frame) for r in (first, second)]
    pd.testing.assert_frame_equal(scored[0], first.labels[["customer_id", "segment"]], check_dtype=False)
    again = compare_segmentations(Segmentation(labels=scored[0]), Segmentation(labels=scored[1]))
    assert (again.agreement, again.migration) == (comparison.agreement, comparison.migration)
    renamed = frame.rename(columns={"customer_id": "client"}).assign(
        client=lambda f: f["client"].where(f.index > 0)
    )
    other = scored_labels(load_model(first.model.to_json()), renamed, id_column="client")
    assert (
        other["customer_id"].tolist() == frame["customer_id"].tolist()[1:]
    )  # a row without an id is left out


def test_the_migration_reads_as_the_version_diff_shows_it(two_runs):
    _, first, second = two_runs
    migration = compare_segmentations(
        Segmentation.from_result(first), Segmentation.from_result(second)
    ).migration
    shown = migration.to_dict()
    assert shown["counts"] == migration.frame().to_numpy().tolist()
    assert sum(map(sum, shown["counts"])) == 300
    assert shown["rows"][0] == {"segment": shown["old_segments"][0], "counts": shown["counts"][0]}
