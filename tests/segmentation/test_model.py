"""The fitted artefact: preprocessing, projection and assigners against scikit-learn; JSON; errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import QuantileTransformer, RobustScaler, StandardScaler

from segmentation.clustering.reduction import uncentred, unit_rows
from segmentation.errors import SegmentationError
from segmentation.model.artefact import CentroidModel, SegmentationModel, load_model
from segmentation.model.assigners import GaussianMixtureAssigner, NearestExemplars, Projection
from segmentation.model.columns import NumericColumn
from segmentation.model.preprocess import Preprocessor


def table(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, rows)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "a": rng.normal(group * 4.0, 1.0),
            "b": np.exp(rng.normal(2 + group, 0.5)),
            "c": rng.gamma(2.0, 2.0, rows) + group,
            "region": rng.choice(["north", "south", "east", "tiny"], rows, p=[0.5, 0.3, 0.195, 0.005]),
        }
    )


def fitted(frame: pd.DataFrame, assigner: str = "exemplars") -> SegmentationModel:
    pre = Preprocessor.fit(
        frame, numeric=["a", "b", "c"], categorical=["region"], transforms={"b": "log1p", "c": "quantile"}
    )
    x = pre.transform(frame)
    projection = Projection.fit(x, variance=0.9)
    y = projection.transform(x)
    if assigner == "mixture":
        chosen: NearestExemplars | GaussianMixtureAssigner = GaussianMixtureAssigner.from_sklearn(
            GaussianMixture(3, random_state=0).fit(y)
        )
    else:
        chosen = NearestExemplars.from_labels(y, KMeans(3, n_init=3, random_state=0).fit_predict(y))
    return SegmentationModel(
        id_column="id",
        preprocessor=pre,
        projection=projection,
        assigner=chosen,
        segment_names=("A", "B", "C"),
    )


# -- preprocessing against scikit-learn -----------------------------------------------------
def test_zscore_robust_log1p_and_quantile_match_scikit_learns_transformers() -> None:
    frame = table()
    pre = Preprocessor.fit(frame, numeric=["a", "b", "c"], transforms={"b": "log1p", "c": "quantile"})
    robust = Preprocessor.fit(frame, numeric=["a"], transforms="robust")
    x = pre.transform(frame)
    np.testing.assert_allclose(x[:, 0], StandardScaler().fit_transform(frame[["a"]])[:, 0], atol=1e-12)
    np.testing.assert_allclose(
        x[:, 1], StandardScaler().fit_transform(np.log1p(frame[["b"]]))[:, 0], atol=1e-9
    )
    quantile = QuantileTransformer(n_quantiles=101).fit_transform(frame[["c"]])[:, 0]
    np.testing.assert_allclose(x[:, 2], quantile, atol=1e-9)
    np.testing.assert_allclose(
        robust.transform(frame)[:, 0], RobustScaler().fit_transform(frame[["a"]])[:, 0], atol=1e-12
    )


def test_missing_cells_take_the_median_and_raise_the_indicator_and_new_values_are_clipped() -> None:
    frame = table(500)
    frame.loc[:9, "a"] = np.nan
    pre = Preprocessor.fit(frame, numeric=["a", "b"], indicators=True)
    assert pre.feature_names == ["a", "b", "a:missing"]
    column = pre.numeric[0]
    assert column.fill == pytest.approx(frame["a"].median())
    new = pd.DataFrame({"a": [None, 1e308, -np.inf], "b": ["", "7", "x"]})
    x = pre.transform(new)
    assert x[:, 2].tolist() == [1.0, 0.0, 0.0]
    assert x[1, 0] == pytest.approx((column.upper - column.center) / column.scale)
    assert np.isfinite(x).all()


def test_one_hot_groups_rare_and_unseen_levels_as_other_and_frequency_uses_training_shares() -> None:
    frame = table()
    pre = Preprocessor.fit(frame, numeric=["a"], categorical=["region"], min_share=0.01)
    assert pre.feature_names[1:] == [
        "region=east",
        "region=north",
        "region=south",
        "region:other",
        "region:missing",
    ]
    new = pd.DataFrame({"a": [0.0] * 4, "region": ["north", "tiny", "never seen", None]})
    assert pre.transform(new)[:, 1:].tolist() == [
        [0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 1],
    ]
    freq = Preprocessor.fit(
        frame, numeric=["a"], categorical=["region"], encodings="frequency", weights={"region": 2.0}
    )
    shares = frame["region"].value_counts(normalize=True)
    got = freq.transform(new)[:, 1]
    assert got[0] == pytest.approx(2 * shares["north"]) and got[1] == got[2] == pytest.approx(
        2 * shares["tiny"]
    )
    assert got[3] == 0.0


# -- projection and assigners --------------------------------------------------------------
def test_the_projection_keeps_the_fewest_components_reaching_the_variance_like_pca() -> None:
    x = StandardScaler().fit_transform(table()[["a", "b", "c"]])
    projection = Projection.fit(x, variance=0.9)
    pca = PCA().fit(x)
    keep = int(np.argmax(np.cumsum(pca.explained_variance_ratio_) >= 0.9)) + 1
    assert len(projection.components) == keep
    np.testing.assert_allclose(np.abs(projection.transform(x)), np.abs(pca.transform(x)[:, :keep]), atol=1e-9)


def test_one_exemplar_per_segment_is_k_means_and_a_noise_radius_labels_outliers_minus_one() -> None:
    x = StandardScaler().fit_transform(table()[["a", "b", "c"]])
    fit = KMeans(3, n_init=3, random_state=0).fit(x)
    exemplars = NearestExemplars.from_labels(x, fit.labels_)
    means = [x[fit.labels_ == k].mean(axis=0) for k in range(3)]
    np.testing.assert_allclose(np.asarray(exemplars.exemplars), means, atol=1e-12)
    np.testing.assert_allclose(np.asarray(exemplars.exemplars), fit.cluster_centers_, atol=1e-2)
    assert (exemplars.predict(x) == fit.predict(x)).mean() > 0.995
    far = NearestExemplars.from_labels(x, fit.labels_, noise_radius=0.5, exemplars_per_segment=2)
    labels = far.predict(x)
    nearest = far.segment_distances(x).min(axis=1)
    assert ((labels == -1) == (nearest > 0.25)).all() and len(far.exemplars) == 6


@pytest.mark.parametrize("covariance", ["full", "tied", "diag", "spherical"])
def test_the_mixture_assigner_predicts_like_scikit_learn_for_every_covariance_type(covariance: str) -> None:
    x = StandardScaler().fit_transform(table()[["a", "b", "c"]])
    gmm = GaussianMixture(3, covariance_type=covariance, random_state=0).fit(x)
    assigner = GaussianMixtureAssigner.from_sklearn(gmm)
    assert (assigner.predict(x) == gmm.predict(x)).mean() >= 0.999
    np.testing.assert_allclose(assigner.predict_proba(x), gmm.predict_proba(x), atol=1e-7)


def test_a_model_predicts_its_probabilities_only_where_it_has_them() -> None:
    frame = table(800)
    mixture, exemplars = fitted(frame, "mixture"), fitted(frame)
    proba = mixture.predict_proba(frame)
    assert proba is not None and np.allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == mixture.predict(frame)).mean() > 0.999
    assert exemplars.predict_proba(frame) is None


# -- the artefact ---------------------------------------------------------------------------
def test_the_json_round_trip_is_exact_canonical_and_hashes_stably() -> None:
    frame = table(800)
    model, again = fitted(frame), fitted(frame.copy())
    assert model.sha256 == again.sha256 and model.to_json() == again.to_json()
    loaded = load_model(model.to_json())
    assert loaded == model and loaded.to_json() == model.to_json()
    assert (loaded.predict(frame) == model.predict(frame)).all()
    data = json.loads(model.to_json())
    assert data["format"] == "segplatform.model/1" and data["assigner"]["kind"] == "nearest_exemplar"


def test_an_old_centroid_model_still_loads_and_predicts_identically_in_both_forms(
    make_scenario: Callable[..., object],
) -> None:
    scenario = make_scenario(11, 20_000)
    old: CentroidModel = scenario.model  # type: ignore[attr-defined]
    frame: pd.DataFrame = scenario.frame  # type: ignore[attr-defined]
    loaded = load_model(old.to_json())
    assert isinstance(loaded, CentroidModel) and loaded == old
    expected = old.predict(frame)
    assert (loaded.predict(frame) == expected).all()
    assert (old.to_segmentation_model().predict(frame) == expected).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="b"), "lacks the model's column"),
        (lambda f: f.assign(a=pd.Timestamp("2024-01-01")), "holds dates"),
        (lambda f: f.assign(a=[{"x": 1}] * len(f)), "holds a dict value"),
        (lambda f: f.assign(c="many"), "holds text such as 'many'"),
    ],
)
def test_input_missing_a_column_or_of_the_wrong_type_is_refused_by_name(change, message) -> None:  # type: ignore[no-untyped-def]
    frame = table(300)
    model = fitted(frame)
    with pytest.raises(SegmentationError, match=message):
        model.predict(change(frame))


def test_loading_reads_json_only_and_refuses_unknown_formats_and_kinds() -> None:
    with pytest.raises(SegmentationError, match="unsupported model format"):
        load_model({"format": "pickle", "payload": "cos\nsystem\n(S'echo hacked'\ntR."})
    data = json.loads(fitted(table(300)).to_json())
    data["assigner"]["kind"] = "__import__('os')"
    with pytest.raises(SegmentationError, match="unknown assigner kind"):
        load_model(data)
    del data["preprocessor"]
    with pytest.raises(SegmentationError, match="damaged"):
        SegmentationModel.from_dict(data)


def test_fitting_refuses_options_for_columns_it_does_not_use_and_unknown_transforms() -> None:
    frame = table(200)
    with pytest.raises(SegmentationError, match="transforms name column"):
        Preprocessor.fit(frame, numeric=["a"], transforms={"zz": "log1p"})
    with pytest.raises(SegmentationError, match="unknown transform 'cube'"):
        Preprocessor.fit(frame, numeric=["a"], transforms="cube")
    with pytest.raises(SegmentationError, match=r"same value for every customer|single value"):
        Preprocessor.fit(frame.assign(a=1.0), numeric=["a"])


# -- the cosine distance's row normalisation ---------------------------------------------------
def test_unit_rows_have_length_one_keep_zero_rows_at_zero_and_flush_tiny_coordinates() -> None:
    rng = np.random.default_rng(3)
    flush = 2.0**-500
    below = float(np.nextafter(flush, 0.0))
    y = np.vstack(
        [
            rng.normal(size=(200, 4)) * 10.0 ** rng.uniform(-100, 100, (200, 1)),
            [[0.0, -0.0, 0.0, 0.0], [1e-160, -1e-320, 5e-324, below], [flush, 0.0, 0.0, 0.0]],
            [[below, 3.0, 4.0, 0.0], [1e150, -1e150, 0.0, 1e-200]],
        ]
    )
    u = unit_rows(y)
    assert (u[200:202] == 0.0).all()  # a zero row, and one whose every value is below 2**-500
    assert u[202].tolist() == [1.0, 0.0, 0.0, 0.0] and u[203].tolist() == [0.0, 0.6, 0.8, 0.0]
    assert u[204, 3] == 0.0 and u[204, 0] == -u[204, 1] == pytest.approx(2**-0.5, rel=1e-15)
    kept = ~(u == 0.0).all(axis=1)
    assert np.linalg.norm(u[kept], axis=1) == pytest.approx(np.ones(kept.sum()), abs=1e-15)
    # Bit for bit the documented arithmetic: flush, squares added from the first, sqrt, divide.
    for row, unit in zip(y.tolist(), u.tolist(), strict=True):
        flushed = [0.0 if abs(v) < flush else v for v in row]
        total = flushed[0] * flushed[0]
        for v in flushed[1:]:
            total += v * v
        length = math.sqrt(total)
        assert unit == [0.0 if length == 0.0 else v / length for v in flushed]


def cosine_model(frame: pd.DataFrame) -> SegmentationModel:
    pre = uncentred(Preprocessor.fit(frame, numeric=["a", "b", "c"], transforms={"b": "log1p"}))
    u = unit_rows(pre.transform(frame))
    assigner = NearestExemplars.from_labels(u, KMeans(3, n_init=3, random_state=0).fit_predict(u))
    return SegmentationModel(
        id_column="id", preprocessor=pre, assigner=assigner, segment_names=("A", "B", "C"), normalisation="l2"
    )


def test_a_normalised_model_predicts_on_unit_rows_and_keeps_its_normalisation_through_json() -> None:
    frame = table(600)
    model = cosine_model(frame)
    rows = model.transform(frame)
    assert np.linalg.norm(rows, axis=1) == pytest.approx(np.ones(len(frame)), abs=1e-15)
    assert (
        model.predict(frame) == model.assigner.predict(unit_rows(model.preprocessor.transform(frame)))
    ).all()
    data = json.loads(model.to_json())
    assert data["normalisation"] == "l2"
    loaded = load_model(model.to_json())
    assert loaded == model and loaded.sha256 == model.sha256 and loaded.normalisation == "l2"
    assert (loaded.predict(frame) == model.predict(frame)).all()
    data["normalisation"] = "l1"
    with pytest.raises(SegmentationError, match="unknown normalisation 'l1'"):
        SegmentationModel.from_dict(data)


def test_a_model_without_normalisation_keeps_the_exact_json_and_hash_it_had_before() -> None:
    pre = Preprocessor(
        numeric=(
            NumericColumn("a", "zscore", 1.0, -10.0, 10.0, 0.5, 2.0),
            NumericColumn("b", "log1p", 2.0, 0.0, 100.0, 1.5, 0.25),
        )
    )
    model = SegmentationModel(
        id_column="id",
        preprocessor=pre,
        projection=Projection(mean=(0.0, 0.0), components=((0.6, 0.8),), explained_variance_ratio=(1.0,)),
        assigner=NearestExemplars(exemplars=((-1.0,), (1.0,)), segments=(0, 1), n_segments=2),
        segment_names=("Low", "High"),
        metadata={"algorithm": "kmeans", "k": 2},
    )
    keys = {"format", "id_column", "segment_names", "noise_name", "preprocessor", "projection", "assigner"}
    assert set(json.loads(model.to_json())) == keys | {"metadata"}
    # The hash this model had before models could carry a normalisation (commit 875802d).
    assert model.sha256 == "6e61f9cc1a0b5d956a350c3dd351a3b2c7c0987f596ffacf18f748d39b3c5b0a"
    assert load_model(model.to_json()).normalisation is None


def test_numbers_read_from_text_are_correctly_rounded_as_every_database_reads_them():
    from segmentation.model.reading import coerce_numeric

    rng = np.random.default_rng(11)
    exact = rng.normal(size=50_000) * rng.choice([1e-3, 1.0, 1e3, 1e6], 50_000)
    text = pd.Series([repr(float(v)) for v in exact] + ["", " 1,234.5 ", "n/a", None, "-inf"], dtype="string")
    read = coerce_numeric(text).to_numpy()
    # pandas' own parser misreads about a third of these by one unit in the last place.
    assert np.array_equal(read[:50_000], exact)
    assert np.isnan(read[50_000]) and read[50_001] == 1234.5 and np.isnan(read[50_002:50_004]).all()
    assert read[50_004] == -np.inf
