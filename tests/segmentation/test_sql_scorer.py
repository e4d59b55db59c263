"""The compiled SQL scorer labels every row exactly as ``CentroidModel.predict`` does.

SQLite and DuckDB run in process; PostgreSQL runs when ``DATABASE_URL`` names it; Snowflake
and BigQuery cannot run here, so their SQL is parsed back and, as a cross-check, transpiled
to DuckDB and executed.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Callable, Iterator
from typing import Protocol

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from segmentation.errors import SegmentationError
from segmentation.model.artefact import CentroidModel
from segmentation.sql.scorer import DIALECTS, compile_scorer, literal_sql

COLUMNS = ["customer_id", "segment", "segment_name"]
MATERIALIZING = ("postgresql", "sqlite", "duckdb")  # the dialects with WITH ... AS MATERIALIZED


class Scenario(Protocol):
    """What the conftest's scenarios offer: a model, its input (NaN = missing), NaN markers."""

    model: CentroidModel
    frame: pd.DataFrame
    as_nan: np.ndarray

    @property
    def expected(self) -> np.ndarray: ...


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- loading a scenario into each engine and scoring it ------------------------------------
def load_sqlite(scenario: Scenario, table: str = "customers") -> sqlite3.Connection:
    """REAL columns, NULL for every missing cell (SQLite cannot store NaN)."""
    connection = sqlite3.connect(":memory:")
    features, key = scenario.model.features, scenario.model.id_column
    columns = ", ".join([f"{quote(key)} INTEGER"] + [f"{quote(f)} REAL" for f in features])
    connection.execute(f"CREATE TABLE {quote(table)} ({columns})")
    values = scenario.frame.astype(object).where(scenario.frame.notna(), None)
    marks = ", ".join("?" * (len(features) + 1))
    connection.executemany(f"INSERT INTO {quote(table)} VALUES ({marks})", values.itertuples(index=False))
    return connection


def load_duckdb(scenario: Scenario) -> duckdb.DuckDBPyConnection:
    """DOUBLE columns; missing cells are NULL or, where ``as_nan`` says so, a stored NaN."""
    key = scenario.model.id_column
    arrays = {key: pa.array(scenario.frame[key].to_numpy())}
    for j, feature in enumerate(scenario.model.features):
        values = scenario.frame[feature].to_numpy()
        arrays[feature] = pa.array(values, mask=np.isnan(values) & ~scenario.as_nan[:, j])
    connection = duckdb.connect()
    connection.register("arrow_source", pa.table(arrays))
    connection.execute("CREATE TABLE customers AS SELECT * FROM arrow_source")
    connection.unregister("arrow_source")
    return connection


def load_postgres(connection: psycopg.Connection, scenario: Scenario, table: str, column_type: str) -> None:
    """A TEMPORARY table (``table`` is quoted SQL) filled by COPY; NULL or 'NaN' for missing."""
    features, key = scenario.model.features, scenario.model.id_column
    columns = ", ".join([f"{quote(key)} BIGINT"] + [f"{quote(f)} {column_type}" for f in features])
    connection.execute(f"CREATE TEMPORARY TABLE {table} ({columns})")
    text_columns = [scenario.frame[key].astype(str).to_numpy()]
    for j, feature in enumerate(features):
        values = scenario.frame[feature].to_numpy()
        text = np.array([repr(v) for v in values.tolist()], dtype=object)
        text[np.isnan(values)] = r"\N"
        text[scenario.as_nan[:, j]] = "NaN"
        text[values == np.inf], text[values == -np.inf] = "Infinity", "-Infinity"
        text_columns.append(text)
    body = "".join("\t".join(row) + "\n" for row in zip(*text_columns, strict=True))
    with connection.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        copy.write(body)


def frame_of(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("customer_id", ignore_index=True)


def assert_parity(result: pd.DataFrame, scenario: Scenario) -> None:
    """Same ids, and for every row the very label and name Python gives."""
    expected = scenario.expected
    assert len(result) == len(scenario.frame)
    assert result["customer_id"].tolist() == scenario.frame[scenario.model.id_column].tolist()
    labels = result["segment"].to_numpy(dtype=np.int64)
    wrong = np.flatnonzero(labels != expected)
    assert wrong.size == 0, (
        f"{wrong.size} of {len(labels)} rows differ, e.g. rows {wrong[:5].tolist()}: SQL "
        f"{labels[wrong[:5]].tolist()} vs Python {expected[wrong[:5]].tolist()}\n"
        f"{scenario.frame.iloc[wrong[:5]].to_string()}"
    )
    names = np.asarray(scenario.model.segment_names, dtype=object)[expected]
    assert result["segment_name"].tolist() == names.tolist()


@pytest.fixture
def score(request: pytest.FixtureRequest) -> Callable[[str, Scenario], pd.DataFrame]:
    """``score(engine, scenario)``: the scorer's output from sqlite, duckdb or postgresql."""

    def run(engine: str, scenario: Scenario) -> pd.DataFrame:
        sql = compile_scorer(scenario.model, engine)
        if engine == "sqlite":
            return frame_of(load_sqlite(scenario).execute(sql).fetchall())
        if engine == "duckdb":
            return frame_of(load_duckdb(scenario).execute(sql).fetchall())
        connection = request.getfixturevalue("postgres")
        connection.execute("DROP TABLE IF EXISTS pg_temp.customers")
        load_postgres(connection, scenario, "pg_temp.customers", "DOUBLE PRECISION")
        return frame_of(connection.execute(sql).fetchall())

    return run


ENGINES = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.services)]


@pytest.fixture(scope="module")
def duckdb_customers(scenario: Scenario) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = load_duckdb(scenario)
    yield connection
    connection.close()


# -- the large parity runs ----------------------------------------------------------------
def test_the_random_data_really_contains_the_hard_cases(scenario: Scenario) -> None:
    model, frame = scenario.model, scenario.frame
    matrix = frame[list(model.features)].to_numpy()
    prepared, z, distances = model.prepared(frame), model.transform(frame), model.distances(frame)
    offsets = prepared - np.asarray(model.centers)
    ordered = np.sort(distances, axis=1)
    diffs = [z - np.asarray(c) for c in model.centroids]
    squares = [d * d for d in diffs]
    assert len(frame) >= 100_000 and 2 <= model.n_segments <= 10
    assert (ordered[:, 0] == ordered[:, 1]).sum() > 1000, "exact ties"
    assert np.isnan(matrix).sum() > 1000 and scenario.as_nan.sum() > 1000, "NULL and NaN cells"
    assert np.isinf(matrix).sum() > 1000 and (np.abs(matrix) >= 1e300).sum() > 1000
    assert ((matrix != 0) & (np.abs(matrix) < 1e-300)).sum() > 1000, "subnormal inputs"
    assert ((matrix < np.asarray(model.lower)) | (matrix > np.asarray(model.upper))).sum() > 1000
    assert ((offsets != 0) & (z == 0)).sum() > 100, "quotients that underflow to zero"
    assert sum(((d != 0) & (s == 0)).sum() for d, s in zip(diffs, squares, strict=True)) > 100
    assert len(set(model.features) & {"order", "select", "group", 'Say "hi"'}) == 4


def test_it_labels_every_row_exactly_as_python_in_sqlite(scenario: Scenario) -> None:
    connection = load_sqlite(scenario)
    result = frame_of(connection.execute(compile_scorer(scenario.model, "sqlite")).fetchall())
    assert_parity(result, scenario)


def test_it_labels_every_row_exactly_as_python_in_duckdb(
    scenario: Scenario, duckdb_customers: duckdb.DuckDBPyConnection
) -> None:
    sql = compile_scorer(scenario.model, "duckdb")
    assert_parity(frame_of(duckdb_customers.execute(sql).fetchall()), scenario)


@pytest.mark.services
@pytest.mark.parametrize("column_type", ["DOUBLE PRECISION", "NUMERIC"])
def test_it_labels_every_row_exactly_as_python_in_postgresql(
    postgres: psycopg.Connection, scenario: Scenario, column_type: str
) -> None:
    """NUMERIC would compute in exact decimal without the cast; JIT on and off both agree."""
    if column_type == "NUMERIC" and postgres.info.server_version < 140000:
        pytest.skip("NUMERIC holds Infinity only from PostgreSQL 14")
    table = f"pg_temp.{quote(f'customers {column_type.lower()}')}"
    load_postgres(postgres, scenario, table, column_type)
    stored = postgres.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 2",
        [table],
    ).fetchone()
    assert stored == (column_type.lower(),)
    sql = compile_scorer(scenario.model, "postgresql", table=table)
    for jit in ("SET jit = off", "SET jit_above_cost = 0"):
        postgres.execute(jit)
        assert_parity(frame_of(postgres.execute(sql).fetchall()), scenario)
    postgres.execute("RESET jit; RESET jit_above_cost")


@pytest.mark.parametrize("k", range(2, 11))
@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_it_agrees_with_python_for_every_number_of_segments(
    make_scenario: Callable[..., Scenario],
    score: Callable[[str, Scenario], pd.DataFrame],
    engine: str,
    k: int,
) -> None:
    scenario = make_scenario(1000 + k, 3000, k=k)
    assert_parity(score(engine, scenario), scenario)


# -- dialects that cannot run here --------------------------------------------------------
@pytest.mark.parametrize("dialect", DIALECTS)
def test_it_compiles_to_exactly_one_select_statement_in_every_dialect(
    scenario: Scenario, dialect: str
) -> None:
    read = "postgres" if dialect == "postgresql" else dialect
    statements = sqlglot.parse(compile_scorer(scenario.model, dialect), read=read)
    assert len(statements) == 1 and isinstance(statements[0], exp.Select)
    assert statements[0].named_selects == COLUMNS
    # Each step must stay a relation of its own: inlined into one another they grow
    # exponentially (PostgreSQL once spent a quarter of an hour JIT-compiling such a query).
    if dialect == "postgresql":  # subqueries fenced with OFFSET 0: never pulled up, rows streamed
        inner = [q for q in statements[0].find_all(exp.Select) if q is not statements[0]]
        fenced = [q for q in inner if q.args.get("offset") is not None]
        assert len(fenced) == 4 and all(q.args["offset"].expression.name == "0" for q in fenced)
        assert not statements[0].ctes
        return
    steps = statements[0].ctes
    assert len(steps) == 4
    assert all(bool(step.args.get("materialized")) == (dialect in MATERIALIZING) for step in steps)


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery"])
def test_its_snowflake_and_bigquery_sql_transpiled_to_duckdb_labels_like_python(
    scenario: Scenario, duckdb_customers: duckdb.DuckDBPyConnection, dialect: str
) -> None:
    sql = compile_scorer(scenario.model, dialect)
    assert sqlglot.parse_one(sql, read=dialect).sql(dialect=dialect) == sql
    transpiled = sqlglot.transpile(sql, read=dialect, write="duckdb")
    assert len(transpiled) == 1
    assert_parity(frame_of(duckdb_customers.execute(transpiled[0]).fetchall()), scenario)


# -- the edges, one at a time -------------------------------------------------------------
def small_model(**changes: object) -> CentroidModel:
    """Two features around 0; centroids (1,0), (-1,0), (0,1), (0,-1) and (1,0) once more."""
    fields: dict[str, object] = dict(
        id_column="Customer ID",
        features=("order", "Total Spend"),
        fill_values=(0.0, 0.0),
        lower=(-100.0, -100.0),
        upper=(100.0, 100.0),
        centers=(0.0, 0.0),
        scales=(1.0, 1.0),
        centroids=((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 0.0)),
        segment_names=("east", "west", "north", "south", "east again"),
    )
    return CentroidModel(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_exact_tie_goes_to_the_lowest_label_as_with_argmin(
    score: Callable[[str, Scenario], pd.DataFrame], small_scenario: Callable[..., Scenario], engine: str
) -> None:
    nan = float("nan")
    rows = [(0, 0), (0, 5), (0, -5), (5, 0), (-5, 0), (nan, 0.5), (0.5, 0.5), (-0.5, -0.5), (1, 0)]
    scenario = small_scenario(small_model(), rows)
    assert scenario.expected.tolist() == [0, 2, 3, 0, 1, 2, 0, 1, 0]
    assert_parity(score(engine, scenario), scenario)


@pytest.mark.parametrize("engine", ENGINES)
def test_infinities_and_values_beyond_the_bounds_score_as_the_bounds_and_nan_as_missing(
    score: Callable[[str, Scenario], pd.DataFrame], small_scenario: Callable[..., Scenario], engine: str
) -> None:
    inf, nan = float("inf"), float("nan")
    rows = [(nan, 3.0), (inf, -inf), (1e308, -1e308), (100.0, -100.0), (-inf, 1e-320), (-100.0, 0.0)]
    model = small_model(fill_values=(-7.0, 500.0))  # the fill is clipped too
    scenario = small_scenario(model, rows, nan_rows=1)  # the first row's NaN is stored as NaN
    labels = scenario.expected.tolist()
    assert labels[1] == labels[2] == labels[3] and labels[4] == labels[5]
    assert_parity(score(engine, scenario), scenario)


def test_it_reads_a_qualified_table_name_written_in_the_dialect(
    small_scenario: Callable[..., Scenario],
) -> None:
    scenario = small_scenario(small_model(), [(2.0, 0.0), (0.0, -3.0)])
    connection = load_sqlite(scenario, table="Customer Table")
    sql = compile_scorer(scenario.model, "sqlite", table='main."Customer Table"')
    assert_parity(frame_of(connection.execute(sql).fetchall()), scenario)


def test_an_unknown_dialect_is_refused_naming_the_accepted_ones() -> None:
    accepted = "postgresql, sqlite, duckdb, snowflake, bigquery, spark, databricks"
    for dialect in ("mysql", "postgres", ""):
        with pytest.raises(SegmentationError, match=accepted):
            compile_scorer(small_model(), dialect)
    with pytest.raises(SegmentationError, match=accepted):
        literal_sql(1.0, "oracle")


def test_a_model_whose_distances_could_overflow_a_double_is_refused() -> None:
    wide = small_model(lower=(-1e300, -100.0), upper=(1e300, 100.0), scales=(1e-10, 1.0))
    with pytest.raises(SegmentationError, match="overflow"):
        compile_scorer(wide, "postgresql")
    with pytest.raises(SegmentationError, match="infinite"):
        compile_scorer(small_model(upper=(math.inf, 100.0)), "sqlite")


# -- constants ----------------------------------------------------------------------------
def random_doubles(count: int) -> list[float]:
    """Uniform bit patterns (every exponent, subnormals included), log-uniform magnitudes, edges."""
    rng = np.random.default_rng(99)
    bits = rng.integers(0, 2**64, count, dtype=np.uint64, endpoint=False).view(np.float64)
    magnitudes = rng.choice([-1.0, 1.0], count) * 10 ** rng.uniform(-323.3, 308.2, count)
    edges = [
        5e-324,
        1e-323,
        2.225073858507201e-308,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        0.1,
        1 / 3,
        2.0**53 + 2,
        9007199254740993.0,
        1e22,
        1e23,
        123456.789,
        0.0,
    ]
    values = [*bits.tolist(), *magnitudes.tolist(), *edges, *(-v for v in edges)]
    return [v for v in values if math.isfinite(v)]


def same_double(a: float, b: float) -> bool:
    """Bit for bit, except that the sign of zero is not kept (it never changes a label)."""
    return (a == 0 and b == 0) or struct.pack("<d", a) == struct.pack("<d", b)


@pytest.mark.parametrize("engine", [*ENGINES, "snowflake", "bigquery"])
def test_every_constant_reads_back_as_the_very_same_double(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """Subnormals down to 5e-324 included: every engine here holds them. Only the sign of zero
    is not kept (PostgreSQL reads ``-0e+0`` as NUMERIC zero), which no label depends on."""
    values = random_doubles(3000)
    assert any(0 < abs(v) < 2.2250738585072014e-308 for v in values)
    if engine == "postgresql":
        connection = request.getfixturevalue("postgres")
    else:  # Snowflake and BigQuery SQL is transpiled to DuckDB and run there
        connection = sqlite3.connect(":memory:") if engine == "sqlite" else duckdb.connect()
    wrong = []
    for start in range(0, len(values), 400):
        chunk = values[start : start + 400]
        sql = "SELECT " + ", ".join(literal_sql(v, engine) for v in chunk)
        if engine in ("snowflake", "bigquery"):
            sql = sqlglot.transpile(sql, read=engine, write="duckdb")[0]
        wrong += [
            (v, r)
            for v, r in zip(chunk, connection.execute(sql).fetchone(), strict=True)
            if not same_double(v, r)
        ]
    assert not wrong, f"{len(wrong)} of {len(values)} constants changed, e.g. {wrong[:5]}"


def test_sqlite_gets_exact_constants_even_where_its_own_decimal_parser_rounds_wrongly() -> None:
    """Why SQLite gets ``CAST(m AS REAL) / 2**k``: its parser misreads some shortest decimals."""
    values = random_doubles(3000)
    connection = sqlite3.connect(":memory:")
    misread = []
    for start in range(0, len(values), 400):
        chunk = values[start : start + 400]
        row = connection.execute("SELECT " + ", ".join(f"{v!r}" for v in chunk)).fetchone()
        misread += [v for v, r in zip(chunk, row, strict=True) if not same_double(v, r)]
    if not misread:
        pytest.skip(f"SQLite {sqlite3.sqlite_version} reads every decimal here exactly")
    exact = connection.execute("SELECT " + ", ".join(literal_sql(v, "sqlite") for v in misread)).fetchone()
    assert all(same_double(v, r) for v, r in zip(misread, exact, strict=True))
