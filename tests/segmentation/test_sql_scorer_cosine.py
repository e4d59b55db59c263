"""Cosine models (rows scaled to unit length) compiled to SQL label 100,000 hostile rows exactly
as ``predict`` does, in every engine the artefact test uses.

The rows add what only the normalisation meets: clustering-space rows that are exactly zero,
coordinates below, at and just above the flush threshold ``2**-500`` (1e-160, 1e-320,
subnormals), and huge or infinite cells clipped to the bounds. The numeric-only preprocessor
makes all-zero rows reachable (a one-hot block always holds one non-zero output).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from segmentation.clustering.reduction import UNIT_FLUSH, clustering_projection, uncentred, unit_rows
from segmentation.errors import SegmentationError
from segmentation.model.artefact import SegmentationModel
from segmentation.model.assigners import GaussianMixtureAssigner, NearestExemplars
from segmentation.model.preprocess import Preprocessor
from segmentation.sql.scorer import compile_scorer
from tests.segmentation.hostile_scorer import (
    CONNECTION,
    ID,
    NUMERIC,
    ROWS,
    Table,
    assert_parity,
    duck,
    expected,
    hostile_table,
    postgres_customers,
    scored,
    sqlite_customers,
    training_table,
)

# The engine fixtures read this module's own ``models`` and ``table``.
__all__ = ["duck", "expected", "postgres_customers", "sqlite_customers"]

EXACT = "order"  # standardised with centre 0 and scale 1: its cell is its feature, bit for bit
NEAR_FLUSH = [
    1e-160,
    -1e-160,
    1e-320,
    5e-324,
    -2.2250738585072014e-308,
    UNIT_FLUSH,
    -UNIT_FLUSH,
    float(np.nextafter(UNIT_FLUSH, 0.0)),
    float(np.nextafter(UNIT_FLUSH, 1.0)),
    1e-150,
    -1e-140,
]
MODELS = ["exemplars", "exemplars pca", "mixture", "mixture pca"]


def cosine_preprocessor(train) -> Preprocessor:  # type: ignore[no-untyped-def]
    """Uncentred, as the pipeline builds it for cosine, with zero inside every column's bounds."""
    pre = uncentred(Preprocessor.fit(train, numeric=list(NUMERIC), transforms=NUMERIC, indicators=True))
    columns = []
    for column in pre.numeric:
        if column.transform != "quantile":  # a quantile column maps its lower bound to 0
            column = replace(column, lower=min(column.lower, 0.0), upper=max(column.upper, 0.0))
        if column.name == EXACT:
            column = replace(column, scale=1.0)
        columns.append(column)
    return replace(pre, numeric=tuple(columns))


def zero_cells(pre: Preprocessor) -> dict[str, float]:
    """The input cell of each column whose feature is exactly 0."""
    return {c.name: c.knots[0] if c.transform == "quantile" else 0.0 for c in pre.numeric}


def build_cosine_models() -> dict[str, SegmentationModel]:
    train = training_table(np.random.default_rng(2026), 6000)
    pre = cosine_preprocessor(train)
    x = pre.transform(train)
    projection = clustering_projection(x, reduction="pca", distance="cosine")
    spaces = {"": (None, unit_rows(x)), " pca": (projection, unit_rows(projection.transform(x)))}
    names = ("Mix 'A'", 'Mix "B"', "Mïx €", "Mix; DROP TABLE x", "Nothing bought")
    models = {}
    for suffix, (chosen, u) in spaces.items():
        # The origin gets a segment of its own, so a row whose tiny cells SQL failed to flush
        # (a unit row, not a zero row) would get another label.
        origin = (0.0,) * u.shape[1]
        labels = KMeans(n_clusters=4, n_init=4, random_state=0).fit_predict(u)
        exemplars = NearestExemplars.from_labels(u, labels, exemplars_per_segment=2, random_state=0)
        # One exemplar of segment 0 also in segment 2: rows nearest it tie, and 0 must win.
        tied = NearestExemplars(
            exemplars=(*exemplars.exemplars, exemplars.exemplars[0], origin),
            segments=(*exemplars.segments, 2, 4),
            n_segments=5,
            noise_radius_sq=(float(np.quantile(exemplars.segment_distances(u).min(axis=1), 0.97)),) * 5,
        )
        covariance = "full" if chosen is not None else "diag"
        fitted = GaussianMixtureAssigner.from_sklearn(
            GaussianMixture(n_components=4, covariance_type=covariance, random_state=0).fit(u)
        )
        narrow = tuple(map(tuple, 30.0 * np.eye(len(origin))))
        mixture = GaussianMixtureAssigner(
            weights=(*(0.9 * w for w in fitted.weights), 0.1),
            means=(*fitted.means, origin),
            precision_cholesky=(*fitted.precision_cholesky, narrow),
        )
        base = dict(
            id_column=ID, preprocessor=pre, projection=chosen, segment_names=names, normalisation="l2"
        )
        models[f"exemplars{suffix}"] = SegmentationModel(**base, assigner=tied)
        models[f"mixture{suffix}"] = SegmentationModel(**base, assigner=mixture)
    return models


def cosine_hostile_table(rng: np.random.Generator, model: SegmentationModel, rows: int) -> Table:
    """The artefact test's hostile cells, plus rows that are zero, or zero but for a tiny cell."""
    table = hostile_table(rng, model, rows)
    frame, zero = table.frame, zero_cells(model.preprocessor)
    pick = rng.random(rows)
    all_zero = pick < 0.04
    tiny_alone = (pick >= 0.04) & (pick < 0.10)
    tiny_among_typical = (pick >= 0.10) & (pick < 0.14)
    for name, cell in zero.items():
        frame.loc[all_zero | tiny_alone, name] = cell
    frame.loc[tiny_alone | tiny_among_typical, EXACT] = rng.choice(
        NEAR_FLUSH, int((tiny_alone | tiny_among_typical).sum())
    )
    as_nan = {name: marks & ~(all_zero | tiny_alone) for name, marks in table.as_nan.items()}
    as_nan[EXACT] &= ~tiny_among_typical
    return Table(frame=frame, as_nan=as_nan)


@pytest.fixture(scope="module")
def models() -> dict[str, SegmentationModel]:
    return build_cosine_models()


@pytest.fixture(scope="module")
def table(models: dict[str, SegmentationModel]) -> Table:
    return cosine_hostile_table(np.random.default_rng(11), models["exemplars"], ROWS)


# -- the data really is hostile ---------------------------------------------------------------
def test_the_rows_reach_zero_the_flush_threshold_and_the_bounds_in_the_clustering_space(
    models: dict[str, SegmentationModel], table: Table, expected: dict[str, np.ndarray]
) -> None:
    frame = table.frame
    assert len(frame) >= 100_000
    for name in ("exemplars", "exemplars pca"):
        model = models[name]
        raw = replace(model, normalisation=None).transform(frame)  # before normalising
        units = model.transform(frame)
        zero_rows = (raw == 0.0).all(axis=1)
        assert zero_rows.sum() > 3000 and (units[zero_rows] == 0.0).all()
        below = (raw != 0.0) & (np.abs(raw) < UNIT_FLUSH)
        assert below.any(axis=1).sum() > 1000 and (units[below] == 0.0).all()
        just_kept = (np.abs(raw) >= UNIT_FLUSH) & (np.abs(raw) < 16 * UNIT_FLUSH)
        assert just_kept.any(axis=1).sum() > 100 and (units[just_kept] != 0.0).all()
        lengths = np.sqrt((units**2).sum(axis=1))
        assert np.abs(lengths[~(units == 0).all(axis=1)] - 1.0).max() < 1e-12
        assert np.abs(units).max() <= 1.0
    assert (models["exemplars"].preprocessor.transform(frame) == UNIT_FLUSH).any(axis=1).sum() > 100
    numbers = frame[list(NUMERIC)].to_numpy(dtype=np.float64)
    assert np.isinf(numbers).sum() > 3000 and (np.abs(numbers) >= 1e200).sum() > 3000
    assert models["exemplars pca"].projection is not None and models["exemplars"].projection is None
    zero_row = {**zero_cells(models["exemplars"].preprocessor), ID: 0}
    edge = pd.DataFrame([zero_row, {**zero_row, EXACT: 1.0}, {**zero_row, EXACT: -1.0}])
    for name in MODELS:
        assert len(set(expected[name].tolist()) - {-1}) >= 4, name
        # A zero row is labelled apart from the unit rows a tiny cell would give unflushed.
        zero_label, *unit_labels = models[name].predict(edge).tolist()
        assert zero_label == 4 and 4 not in unit_labels, name
    assert (expected["exemplars"] == -1).sum() > 1000
    distances = models["exemplars"].distances(frame)
    assert ((distances[:, 0] == distances[:, 2]) & (distances.min(axis=1) == distances[:, 0])).sum() > 100


# -- parity in each engine --------------------------------------------------------------------
# Snowflake and BigQuery SQL is parsed back and transpiled to DuckDB (see ``scored``).
@pytest.mark.parametrize(
    "engine",
    ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.services), "snowflake", "bigquery"],
)
@pytest.mark.parametrize("name", MODELS)
def test_every_engine_labels_every_cosine_row_like_python_without_an_underflow_error(
    request: pytest.FixtureRequest,
    models: dict[str, SegmentationModel],
    table: Table,
    expected: dict[str, np.ndarray],
    engine: str,
    name: str,
) -> None:
    connection = request.getfixturevalue(CONNECTION[engine])
    sql = compile_scorer(models[name], engine)
    assert "SQRT(" in sql
    if engine == "postgresql":
        connection.execute("SET jit = off")
    assert_parity(scored(engine, sql, connection), models[name], table, expected[name])


def test_a_cosine_model_whose_sum_of_squares_could_overflow_is_refused(
    models: dict[str, SegmentationModel],
) -> None:
    model = models["mixture"]
    first = model.preprocessor.numeric[0]
    wide = replace(first, lower=-1e200, upper=1e200, fill=0.0, scale=1e-5)
    huge = replace(
        model, preprocessor=replace(model.preprocessor, numeric=(wide, *model.preprocessor.numeric[1:]))
    )
    # Only the sum of squares can overflow: the assigner sees coordinates in [-1, 1].
    with pytest.raises(SegmentationError, match="overflow"):
        compile_scorer(huge, "postgresql")
    assert "_seg_normalised" in compile_scorer(model, "postgresql")
