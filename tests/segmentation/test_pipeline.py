"""The foundation's segmentation: standardise, K-Means over a k range, pick by silhouette."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.preprocessing import StandardScaler

from segmentation import SegmentationError, SegmentationSpec, segment
from segmentation.model.artefact import load_model
from segmentation.synthetic.customers import blobs, customer_table

CENTERS = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 0.0], [0.0, 8.0, 8.0], [8.0, 0.0, 8.0]])


def spec(**overrides):  # type: ignore[no-untyped-def]
    data = {"id_column": "customer_id", "numeric_columns": ["x0", "x1", "x2"], "k_min": 2, "k_max": 7}
    return SegmentationSpec.from_dict({**data, **overrides})


def test_it_recovers_planted_clusters_and_picks_their_number():
    frame, truth = blobs(150, CENTERS, seed=1)
    result = segment(frame, spec())
    assert result.metrics["selected"]["k"] == 4
    assert adjusted_rand_score(truth, result.labels["segment"]) == pytest.approx(1.0)


def test_its_metrics_equal_scikit_learns_on_the_same_labels():
    frame, _ = blobs(100, CENTERS, spread=2.5, seed=2)
    result = segment(frame, spec(k_min=2, k_max=5))
    z = StandardScaler().fit_transform(frame[["x0", "x1", "x2"]])
    kmeans = [c for c in result.metrics["candidates"] if c["algorithm"] == "kmeans"]
    assert [c["k"] for c in kmeans] == [2, 3, 4, 5]
    for candidate in kmeans:
        fit = KMeans(n_clusters=candidate["k"], n_init=10, random_state=0).fit(z)
        assert candidate["silhouette"] == pytest.approx(silhouette_score(z, fit.labels_), abs=1e-9)
        assert candidate["davies_bouldin"] == pytest.approx(davies_bouldin_score(z, fit.labels_), rel=1e-9)
        assert candidate["calinski_harabasz"] == pytest.approx(
            calinski_harabasz_score(z, fit.labels_), rel=1e-9
        )
    # The default rule judges each family by its own criterion, then the finalists against each
    # other (segmentation/clustering/selection.py), not by silhouette alone.
    selected = result.metrics["selected"]
    winner = next(
        c
        for c in result.metrics["candidates"]
        if (c["algorithm"], c["k"]) == (selected["algorithm"], selected["k"])
    )
    assert selected["rule"] == "combined" and selected["family"] == winner["family"]
    assert f"won the {selected['family']} family" in selected["reason"]


def test_labels_are_the_models_own_predictions_numbered_by_size():
    frame, _ = customer_table(800, seed=3)
    result = segment(
        frame,
        SegmentationSpec.from_dict(
            {"id_column": "customer_id", "numeric_columns": ["recency_days", "orders_per_year", "avg_basket"]}
        ),
    )
    assert (result.labels["segment"].to_numpy() == result.model.predict(frame)).all()
    sizes = result.labels["segment"].value_counts().sort_index().to_numpy()
    assert list(sizes) == sorted(sizes, reverse=True)
    assert list(result.profile["size"]) == list(sizes)
    assert result.profile["name"].is_unique


def test_blank_and_unparsable_cells_are_imputed_and_counted():
    frame, _ = blobs(60, CENTERS, seed=4)
    frame = frame.astype(str)
    frame.loc[[0, 5, 9], "x0"] = ""
    frame.loc[[3], "x1"] = "unknown"
    result = segment(frame, spec(k_max=5))
    assert result.metrics["missing"] == {"x0": 3, "x1": 1, "x2": 0}
    assert result.metrics["missing_total"] == 4
    assert result.metrics["unparsable"] == {"x0": 0, "x1": 1, "x2": 0}
    assert len(result.labels) == len(frame)


def test_the_same_input_gives_the_same_model_and_labels():
    frame, _ = customer_table(500, seed=5)
    s = SegmentationSpec.from_dict(
        {"id_column": "customer_id", "numeric_columns": ["recency_days", "avg_basket"]}
    )
    first, second = segment(frame, s), segment(frame.copy(), s)
    assert first.model.sha256 == second.model.sha256
    assert first.labels.equals(second.labels)


def test_the_model_survives_a_json_round_trip():
    frame, _ = blobs(50, CENTERS, seed=6)
    model = segment(frame, spec(k_max=5)).model
    again = load_model(model.to_json())
    assert again == model
    assert (again.predict(frame) == model.predict(frame)).all()


def test_rows_without_an_id_are_dropped_and_counted():
    frame, _ = blobs(40, CENTERS, seed=7)
    frame.loc[[1, 2], "customer_id"] = None
    result = segment(frame, spec(k_max=5))
    assert result.metrics["rows_without_id"] == 2
    assert len(result.labels) == len(frame) - 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.assign(x2=5.0), "column 'x2' has the same value for every customer"),
        (lambda f: f.assign(x2=np.nan), "column 'x2' has no numeric values"),
        (lambda f: f.drop(columns="x1"), "column(s) not found in the data: x1"),
        (lambda f: f.head(5), "the table has 5 customer(s) but the spec asks for up to 7 segments"),
        (lambda f: f.assign(customer_id="same"), "customer id 'same' appears"),
    ],
)
def test_it_refuses_data_it_cannot_segment_with_a_message_naming_the_problem(mutate, message):
    frame, _ = blobs(30, CENTERS, seed=8)
    with pytest.raises(SegmentationError) as error:
        segment(mutate(frame), spec())
    assert message in str(error.value)


def test_it_clips_extreme_values_instead_of_overflowing():
    frame, _ = blobs(30, CENTERS, seed=9)
    model = segment(frame, spec(k_max=5)).model
    extreme = pd.DataFrame({"customer_id": ["a", "b"], "x0": [1e308, -1e308], "x1": [0, 0], "x2": [0, 0]})
    assert np.isfinite(model.distances(extreme)).all()


def test_the_delivered_model_applies_the_specs_per_column_transforms():
    frame, _ = customer_table(200, seed=5, messy=False)
    result = segment(
        frame,
        SegmentationSpec.from_dict(
            {
                "id_column": "customer_id",
                "numeric_columns": ["recency_days", "avg_basket"],
                "k_min": 2,
                "k_max": 3,
                "algorithms": ["kmeans"],
                "stability_resamples": 0,
                "transforms": {"avg_basket": "log1p"},
                "default_transform": "zscore",  # the columns not named; "auto" is tested apart
            }
        ),
    )
    transforms = {c.name: c.transform for c in result.model.preprocessor.numeric}
    assert transforms == {"recency_days": "zscore", "avg_basket": "log1p"}
