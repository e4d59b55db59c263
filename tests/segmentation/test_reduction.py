"""PCA before clustering, Mahalanobis whitening as a projection, cosine as unit rows, and the
exploration maps."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from segmentation import SegmentationSpec, segment
from segmentation.clustering.reduction import clustering_projection, exploration_maps, uncentred, unit_rows
from segmentation.errors import SegmentationError, SpecError
from segmentation.model.preprocess import Preprocessor
from segmentation.sql.scorer import compile_scorer
from segmentation.synthetic.customers import SPEND_COLUMNS, customer_table, spend_mix

NUMERIC = ["recency_days", "orders_per_year", "avg_basket", "tenure_months"]


def correlated(rows: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(rows, 4)) @ np.array(
        [[2.0, 0.5, 0.0, 0.1], [0.0, 1.0, 0.3, 0.0], [0.0, 0.0, 0.5, 0.2], [0.0, 0.0, 0.0, 0.3]]
    )


def spec(**overrides):  # type: ignore[no-untyped-def]
    # One algorithm, few k, no resamples: these tests are about the space, not the sweep.
    data = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 4,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    return SegmentationSpec.from_dict({**data, **overrides})


def test_mahalanobis_projection_turns_euclidean_distance_into_scipys_mahalanobis():
    x = correlated()
    projection = clustering_projection(x, distance="mahalanobis")
    y = projection.transform(x)
    inverse = np.linalg.inv(np.cov(x, rowvar=False))
    expected = cdist(x[:20], x[20:40], metric="mahalanobis", VI=inverse)
    assert cdist(y[:20], y[20:40]) == pytest.approx(expected, rel=1e-9)


def test_pca_projection_keeps_the_components_explaining_ninety_percent_as_sklearn_does():
    x = correlated()
    projection = clustering_projection(x, reduction="pca")
    reference = PCA(n_components=0.9, svd_solver="full").fit(x)
    assert len(projection.components) == reference.n_components_
    assert np.abs(projection.transform(x)) == pytest.approx(np.abs(reference.transform(x)), abs=1e-9)


def test_pca_then_mahalanobis_whitens_the_kept_components():
    x = correlated()
    y = clustering_projection(x, reduction="pca", distance="mahalanobis").transform(x)
    assert np.cov(y, rowvar=False) == pytest.approx(np.eye(y.shape[1]), abs=1e-9)


def test_it_refuses_mahalanobis_when_a_feature_is_a_combination_of_others():
    x = correlated()
    with pytest.raises(SegmentationError, match="linear combinations"):
        clustering_projection(np.column_stack([x, x[:, 0] + x[:, 1]]), distance="mahalanobis")


@pytest.mark.parametrize(
    "overrides",
    [{"reduction": "pca"}, {"distance": "mahalanobis"}, {"distance": "cosine", "reduction": "pca"}],
)
def test_the_delivered_model_carries_the_projection_and_sql_labels_like_python(overrides):
    frame, _ = customer_table(400, seed=3, messy=False)
    result = segment(frame, spec(**overrides))
    assert result.model.projection is not None
    assert result.metrics["space"]["dimensions"] == len(result.model.projection.components)
    connection = sqlite3.connect(":memory:")
    frame[["customer_id", *NUMERIC]].astype({c: float for c in NUMERIC}).to_sql("customers", connection)
    rows = connection.execute(compile_scorer(result.model, "sqlite")).fetchall()
    scored = pd.DataFrame(rows, columns=["customer_id", "segment", "segment_name"]).set_index("customer_id")
    expected = result.labels.set_index("customer_id")["segment"]
    assert scored.loc[expected.index, "segment"].tolist() == expected.tolist()


def test_metrics_hold_json_safe_pca_and_tsne_maps_when_a_reduction_is_asked_for():
    frame, _ = customer_table(300, seed=4, messy=False)
    result = segment(frame, spec(reduction="pca"))
    maps = json.loads(json.dumps(result.metrics["maps"]))
    assert maps["sample_size"] == 300
    assert len(maps["pca"]["x"]) == len(maps["tsne"]["y"]) == len(maps["segments"]) == 300
    labels = result.labels.set_index("customer_id")["segment"]
    assert labels.loc[maps["customer_ids"]].tolist() == maps["segments"]


def test_maps_sample_at_most_the_given_number_of_customers():
    z = correlated(50)
    maps = exploration_maps(z, np.zeros(50, dtype=int), np.arange(50), rows=20)
    assert maps["sample_size"] == len(set(maps["customer_ids"])) == 20


@pytest.mark.parametrize("reduction", ["none", "pca"])
def test_cosine_finds_the_spend_mix_groups_that_euclidean_confuses_with_volume(reduction):
    frame, truth = spend_mix(600, seed=5)
    found = {}
    for distance in ("euclidean", "cosine"):
        chosen = spec(
            numeric_columns=list(SPEND_COLUMNS), k_min=3, k_max=3, distance=distance, reduction=reduction
        )
        result = segment(frame, chosen)
        labels = result.labels["segment"].to_numpy()
        found[distance] = adjusted_rand_score(truth, labels)
        assert (result.model.predict(frame) == labels).all()
        assert result.metrics["space"]["distance"] == distance
    assert result.model.normalisation == "l2"
    assert np.linalg.norm(result.model.transform(frame), axis=1) == pytest.approx(1.0, abs=1e-12)
    assert found["cosine"] >= 0.9 and found["euclidean"] < found["cosine"] - 0.4, found


def test_cosine_leaves_the_features_uncentred_and_its_pca_passes_through_the_origin():
    x = np.abs(correlated()) + 1.0  # all positive, like spend: centring would change every angle
    assert clustering_projection(x, distance="cosine") is None
    projection = clustering_projection(x, reduction="pca", distance="cosine")
    components = np.asarray(projection.components)
    assert projection.mean == (0.0,) * 4
    assert components @ components.T == pytest.approx(np.eye(len(components)), abs=1e-12)
    # The first direction points at the bulk of the rows, as an uncentred SVD's does.
    assert (components[0] > 0).all()
    # Rows scaled by any positive volume keep their direction through the projection.
    y = unit_rows(projection.transform(x))
    assert unit_rows(projection.transform(x * 37.0)) == pytest.approx(y, abs=1e-12)
    residual = x - (x @ components.T) @ components
    assert (residual**2).sum() <= 0.1 * ((x - x.mean(axis=0)) ** 2).sum()
    frame, _ = spend_mix(50)
    preprocessor = uncentred(Preprocessor.fit(frame, numeric=list(SPEND_COLUMNS)))
    assert all(c.center == 0.0 for c in preprocessor.numeric)


def test_cosine_refuses_categorical_columns_and_names_them():
    frame, _ = spend_mix(60)
    frame["channel"] = "web"
    chosen = spec(numeric_columns=list(SPEND_COLUMNS), distance="cosine", categorical_columns=["channel"])
    with pytest.raises(SegmentationError, match=r"cosine.*categorical columns \(channel\)"):
        segment(frame, chosen)


def test_an_unknown_distance_is_refused_by_the_spec_and_by_the_engine():
    with pytest.raises(SpecError, match="'distance' must be one of euclidean, mahalanobis, cosine"):
        spec(distance="manhattan")
    with pytest.raises(SegmentationError, match="'cosine'"):
        clustering_projection(correlated(), distance="manhattan")


def test_the_default_run_stores_the_pca_map_only():
    maps = exploration_maps(correlated(50), np.zeros(50, dtype=int), np.arange(50), tsne=False)
    assert maps["tsne"] is None and len(maps["pca"]["x"]) == 50


@pytest.mark.slow
def test_umap_draws_an_exploration_map_that_keeps_neighbourhoods_but_never_clusters_in_it():
    from sklearn.manifold import trustworthiness

    from segmentation.synthetic.customers import blobs

    frame, _ = blobs(150, np.array([[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 0]]), seed=3)
    result = segment(
        frame,
        SegmentationSpec.from_dict(
            {
                "id_column": "customer_id",
                "numeric_columns": ["x0", "x1", "x2", "x3"],
                "reduction": "umap",
                "algorithms": ["kmeans"],
                "k_min": 2,
                "k_max": 4,
                "stability_resamples": 0,
            }
        ),
    )
    maps = result.metrics["maps"]
    umap_map = maps["umap"]
    assert umap_map["rows"] == len(umap_map["x"]) == len(umap_map["y"]) == maps["sample_size"]
    z = frame.set_index("customer_id").loc[maps["customer_ids"], ["x0", "x1", "x2", "x3"]].to_numpy(float)
    embedded = np.column_stack([umap_map["x"], umap_map["y"]])
    assert trustworthiness(z, embedded, n_neighbors=5) > 0.9
    assert result.model.projection is None  # clustered in the original space, scorable in SQL
    json.dumps(result.metrics)
