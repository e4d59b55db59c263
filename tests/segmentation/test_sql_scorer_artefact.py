"""The whole artefact compiled to SQL labels 100,000 hostile rows exactly as ``predict`` does.

Covers every transform (zscore, robust, log1p, quantile), missing indicators, block weights,
one-hot and frequency encodings with rare, unseen, quoted and missing levels, the PCA
projection, nearest exemplars (several per segment, exact ties, a noise radius) and Gaussian
mixtures (full and diagonal factors, a duplicated component for exact ties). SQLite and DuckDB
run in process, PostgreSQL on temporary tables; Snowflake and BigQuery SQL is parsed back and
transpiled to DuckDB.
"""

from __future__ import annotations

import math
import sqlite3

import duckdb
import numpy as np
import psycopg
import pyarrow as pa
import pytest

from segmentation.errors import SegmentationError
from segmentation.model.artefact import SegmentationModel
from segmentation.model.columns import libm_log
from segmentation.sql.scorer import compile_scorer
from tests.segmentation.hostile_scorer import (
    CONNECTION,
    MODELS,
    NUMERIC,
    ROWS,
    UNSEEN,
    Table,
    assert_parity,
    build_models,
    duck,
    expected,
    hostile_table,
    postgres_customers,
    result_frame,
    scored,
    sqlite_customers,
)

__all__ = ["duck", "expected", "postgres_customers", "sqlite_customers"]  # fixtures this module uses


@pytest.fixture(scope="module")
def models() -> dict[str, SegmentationModel]:
    return build_models()[0]


@pytest.fixture(scope="module")
def table(models: dict[str, SegmentationModel]) -> Table:
    return hostile_table(np.random.default_rng(7), models["exemplars"], ROWS)


# -- the data really is hostile ---------------------------------------------------------------
def test_the_hostile_rows_reach_every_edge_the_scorers_must_handle(
    models: dict[str, SegmentationModel], table: Table, expected: dict[str, np.ndarray]
) -> None:
    frame, pre = table.frame, models["exemplars"].preprocessor
    numbers = frame[list(NUMERIC)].to_numpy(dtype=np.float64)
    assert len(frame) >= 100_000
    assert np.isnan(numbers).sum() > 10_000 and sum(m.sum() for m in table.as_nan.values()) > 5000
    assert np.isinf(numbers).sum() > 5000 and ((numbers != 0) & (np.abs(numbers) < 1e-300)).sum() > 5000
    assert {c.transform for c in pre.numeric} == {"zscore", "robust", "log1p", "quantile"}
    assert any(c.indicator for c in pre.numeric) and {c.encoding for c in pre.categorical} == {
        "onehot",
        "frequency",
    }
    region = pre.categorical[0]
    assert "rare1" not in region.levels and "O'Brien" in region.levels and "back\\slash" in region.levels
    assert frame["Région"].isin(UNSEEN).sum() > 1000 and (frame["Région"] == "").sum() > 1000
    exemplars = models["exemplars"]
    assert exemplars.projection is not None and len(exemplars.projection.components) < len(pre.feature_names)
    labels = expected["exemplars"]
    assert (
        (labels == -1).sum() > 1000
        and (expected["manhattan"] == -1).sum() > 1000
        and set(labels.tolist()) == {-1, 0, 1, 2, 3}
    )
    # Exact ties: rows whose nearest exemplar is the one shared by segments 0 and 2.
    distances = exemplars.distances(frame)
    assert ((distances[:, 0] == distances[:, 2]) & (distances.min(axis=1) == distances[:, 0])).sum() > 100
    scores = models["mixture"].assigner.scores(exemplars.transform(frame))
    assert (scores[:, 0] == scores[:, 3]).all() and 3 not in set(expected["mixture"].tolist())
    assert len(set(expected["diagonal"].tolist())) == 4


# -- parity in each engine --------------------------------------------------------------------
@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "snowflake", "bigquery"])
@pytest.mark.parametrize("name", MODELS)
def test_every_engine_labels_every_row_like_python(
    request: pytest.FixtureRequest,
    models: dict[str, SegmentationModel],
    table: Table,
    expected: dict[str, np.ndarray],
    engine: str,
    name: str,
) -> None:
    sql = compile_scorer(models[name], engine)
    assert_parity(
        scored(engine, sql, request.getfixturevalue(CONNECTION[engine])), models[name], table, expected[name]
    )


@pytest.mark.services
@pytest.mark.parametrize("name", MODELS)
def test_postgresql_labels_every_row_like_python_with_and_without_jit(
    models: dict[str, SegmentationModel],
    table: Table,
    expected: dict[str, np.ndarray],
    postgres_customers: psycopg.Connection,
    name: str,
) -> None:
    sql = compile_scorer(models[name], "postgresql")
    for jit in ("SET jit = off", "SET jit_above_cost = 0") if name == "mixture" else ("SET jit = off",):
        postgres_customers.execute(jit)
        assert_parity(
            result_frame(postgres_customers.execute(sql).fetchall()), models[name], table, expected[name]
        )
    postgres_customers.execute("RESET jit; RESET jit_above_cost")


@pytest.mark.parametrize(
    "engine", ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.services)]
)
def test_every_engines_ln_of_one_plus_x_is_the_c_librarys_log_bit_for_bit(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """Why log1p is ``LN(1 + p)`` evaluated with libm in Python: the engines call libm's log
    (NumPy's own ``log`` differs from it in the last bit for about 1 value in 2,000 here)."""
    rng = np.random.default_rng(5)
    values = np.concatenate(
        [rng.uniform(0, 10, 20_000), 10 ** rng.uniform(-20, 300, 20_000), [0.0, 5e-324, 1e-16]]
    )
    rows = list(enumerate(values.tolist()))
    query = "SELECT LN(1 + x) FROM numbers ORDER BY i"
    if engine == "postgresql":
        connection = request.getfixturevalue("postgres")
        connection.execute("CREATE TEMPORARY TABLE numbers (i INTEGER, x DOUBLE PRECISION)")
        with connection.cursor().copy("COPY numbers FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection = sqlite3.connect(":memory:") if engine == "sqlite" else duckdb.connect()
        connection.execute("CREATE TABLE numbers (i INTEGER, x DOUBLE)")
        if engine == "sqlite":
            connection.executemany("INSERT INTO numbers VALUES (?, ?)", rows)
        else:
            connection.register("source", pa.table({"i": np.arange(len(values)), "x": values}))
            connection.execute("INSERT INTO numbers SELECT * FROM source")
    got = np.asarray([r[0] for r in connection.execute(query).fetchall()], dtype=np.float64)
    if engine == "postgresql":
        connection.execute("DROP TABLE numbers")
    reference = libm_log(1.0 + values)
    assert np.array_equal(got, reference), f"{(got != reference).sum()} of {len(values)} differ"
    assert all(math.log(1.0 + v) == r for v, r in zip(values.tolist(), reference.tolist(), strict=True))


def test_a_model_whose_projection_or_scores_could_overflow_is_refused(
    models: dict[str, SegmentationModel],
) -> None:
    from dataclasses import replace

    model = models["mixture"]
    wide = replace(model.preprocessor.numeric[0], lower=-1e300, upper=1e300, fill=0.0, scale=1e-5)
    huge = replace(
        model, preprocessor=replace(model.preprocessor, numeric=(wide, *model.preprocessor.numeric[1:]))
    )
    with pytest.raises(SegmentationError, match="overflow"):
        compile_scorer(huge, "postgresql")
    assert "_seg_whitened" in compile_scorer(model, "postgresql")


def test_a_noise_label_is_named_and_every_other_segment_keeps_its_name(
    models: dict[str, SegmentationModel],
) -> None:
    model = models["exemplars"]
    sql = compile_scorer(model, "sqlite")
    assert "'Unassigned'" in sql and "'Loyal ''high'' spenders'" in sql
    assert model.names_of(np.array([-1, 0, 3])) == [
        "Unassigned",
        "Loyal 'high' spenders",
        "Seg; DROP TABLE x",
    ]
