"""The hostile customer table and the engines that hold it, shared by the SQL scorer tests.

``hostile_table`` writes rows that reach every edge a compiled scorer must handle (see
``test_sql_scorer_artefact``); the fixtures load one table into SQLite, DuckDB and a temporary
PostgreSQL table. A test module imports the fixtures and defines its own ``models`` and ``table``
fixtures, which these read by name.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import sqlglot
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from segmentation.model.artefact import SegmentationModel
from segmentation.model.assigners import GaussianMixtureAssigner, NearestExemplars, Projection
from segmentation.model.preprocess import Preprocessor

ID = "Customer ID"
NUMERIC = {
    "order": "zscore",
    "Total Spend": "log1p",
    'Say "hi"': "robust",
    "group": "quantile",
    "days `since`": "zscore",
}
CATEGORICAL = {"Région": "onehot", "channel": "frequency"}
LEVELS = [
    "north",
    "North",
    "O'Brien",
    'say "x"',
    "back\\slash",
    "ünï €",
    " padded ",
    "NULL",
    "rare1",
    "rare2",
]
UNSEEN = ["east", "O''Brien", "north ", "\\", "%", "unseen 'quote'"]
ROWS = 100_000
COLUMNS = ["customer_id", "segment", "segment_name"]


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame  # NaN / None for every missing cell
    as_nan: dict[str, np.ndarray]  # numeric cells stored as NaN (not NULL) where possible


def training_table(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Typical customers: four planted groups, skewed spend, a few blanks and rare levels."""
    group = rng.integers(0, 4, rows)
    frame = pd.DataFrame(
        {
            ID: np.arange(rows),
            "order": rng.normal(group * 3.0, 1.0),
            "Total Spend": np.exp(rng.normal(3 + group, 0.8)),
            'Say "hi"': rng.normal(10 * (group % 2), 2.0),
            "group": rng.gamma(2.0 + group, 3.0),
            "days `since`": np.where(rng.random(rows) < 0.1, np.nan, rng.normal(group, 1.0)),
        }
    )
    share = np.array([20, 15, 12, 12, 10, 10, 8, 8, 0.3, 0.2])
    region = rng.choice(LEVELS, rows, p=share / share.sum()).astype(object)
    region[rng.random(rows) < 0.05] = None
    frame["Région"] = region
    frame["channel"] = rng.choice(["web", "store", "app", "phone'line"], rows, p=[0.5, 0.3, 0.195, 0.005])
    return frame


def hostile_table(rng: np.random.Generator, model: SegmentationModel, rows: int) -> Table:
    """Typical values mixed with NULL, NaN, ±inf, huge, subnormal, bound, knot and unseen cells."""
    frame = training_table(rng, rows)
    frame[ID] = np.arange(rows, dtype=np.int64) * 7 + 1_000_000
    as_nan = {}
    for column in model.preprocessor.numeric:
        values = frame[column.name].to_numpy(dtype=np.float64)
        sign = rng.choice([-1.0, 1.0], rows)
        knots = np.asarray(column.knots or (column.lower, column.upper))
        kinds = [
            values,
            np.full(rows, np.nan),
            sign * np.inf,
            sign * rng.choice([1e300, 1.7976931348623157e308, 1e200], rows),
            sign * rng.choice([5e-324, 1e-310, 1e-300], rows),
            np.where(sign > 0, column.upper, column.lower),
            rng.choice(knots, rows),
            np.full(rows, column.fill),
            sign * 0.0,
            np.round(values),
        ]
        weights = np.array([55, 8, 4, 4, 4, 4, 8, 4, 4, 5], dtype=float)
        values = np.choose(rng.choice(len(kinds), rows, p=weights / weights.sum()), kinds)
        frame[column.name] = values
        as_nan[column.name] = np.isnan(values) & (rng.random(rows) < 0.5)
    region = frame["Région"].to_numpy(dtype=object)
    pick = rng.random(rows)
    region[pick < 0.06] = rng.choice(UNSEEN, int((pick < 0.06).sum()))
    region[(pick >= 0.06) & (pick < 0.09)] = ""
    frame["Région"] = region
    channel = frame["channel"].to_numpy(dtype=object)
    channel[rng.random(rows) < 0.03] = None
    channel[rng.random(rows) < 0.03] = "fax"
    frame["channel"] = channel
    return Table(frame=frame, as_nan=as_nan)


def build_models() -> tuple[dict[str, SegmentationModel], pd.DataFrame]:
    rng = np.random.default_rng(2026)
    train = training_table(rng, 6000)
    pre = Preprocessor.fit(
        train,
        numeric=list(NUMERIC),
        categorical=list(CATEGORICAL),
        transforms=NUMERIC,
        encodings=CATEGORICAL,
        indicators=True,
        min_share=0.01,
        weights={"Région": 0.7, "order": 1.5},
    )
    x = pre.transform(train)
    projection = Projection.fit(x, variance=0.9)
    y = projection.transform(x)
    labels = KMeans(n_clusters=4, n_init=4, random_state=0).fit_predict(y)
    exemplars = NearestExemplars.from_labels(y, labels, exemplars_per_segment=3, random_state=0)
    # An exemplar of segment 0 repeated in segment 2: rows nearest it tie, and 0 must win.
    tied = NearestExemplars(
        exemplars=(*exemplars.exemplars, exemplars.exemplars[0]),
        segments=(*exemplars.segments, 2),
        n_segments=4,
        noise_radius_sq=tuple(
            np.quantile(exemplars.segment_distances(y).min(axis=1), 0.97) for _ in range(4)
        ),
    )
    # Gower's assignment: Manhattan distance, with the same shared exemplar and a noise threshold.
    city = replace(tied, metric="manhattan", noise_radius_sq=None)
    manhattan = replace(
        city, noise_radius_sq=(float(np.quantile(city.segment_distances(y).min(axis=1), 0.97)),) * 4
    )
    mixture = GaussianMixtureAssigner.from_sklearn(
        GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(y)
    )
    # The first component twice: identical scores, the lower label must win.
    duplicated = GaussianMixtureAssigner(
        weights=(*mixture.weights, mixture.weights[0]),
        means=(*mixture.means, mixture.means[0]),
        precision_cholesky=(*mixture.precision_cholesky, mixture.precision_cholesky[0]),
    )
    diagonal = GaussianMixtureAssigner.from_sklearn(
        GaussianMixture(n_components=4, covariance_type="diag", random_state=0).fit(x)
    )
    names = ("Loyal 'high' spenders", 'Lapsing "one-timers"', "Ünïcode €", "Seg; DROP TABLE x")
    base = dict(id_column=ID, preprocessor=pre, metadata={"test": True})
    models = {
        "exemplars": SegmentationModel(**base, assigner=tied, projection=projection, segment_names=names),
        "manhattan": SegmentationModel(
            **base, assigner=manhattan, projection=projection, segment_names=names
        ),
        "mixture": SegmentationModel(**base, assigner=duplicated, projection=projection, segment_names=names),
        "diagonal": SegmentationModel(**base, assigner=diagonal, segment_names=names),
    }
    return models, train


@pytest.fixture(scope="module")
def expected(models: dict[str, SegmentationModel], table: Table) -> dict[str, np.ndarray]:
    return {name: model.predict(table.frame) for name, model in models.items()}


# -- loading ------------------------------------------------------------------------------
def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def numeric_names() -> list[str]:
    return list(NUMERIC)


def load_sqlite(table: Table) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    columns = (
        [f"{quote(ID)} INTEGER"]
        + [f"{quote(c)} REAL" for c in NUMERIC]
        + [f"{quote(c)} TEXT" for c in CATEGORICAL]
    )
    connection.execute(f"CREATE TABLE customers ({', '.join(columns)})")
    frame = table.frame[[ID, *NUMERIC, *CATEGORICAL]].astype(object)
    frame = frame.where(frame.notna(), None)
    marks = ", ".join("?" * frame.shape[1])
    connection.executemany(f"INSERT INTO customers VALUES ({marks})", frame.itertuples(index=False))
    return connection


def arrow_table(table: Table) -> pa.Table:
    arrays = {ID: pa.array(table.frame[ID].to_numpy())}
    for column in NUMERIC:
        values = table.frame[column].to_numpy(dtype=np.float64)
        arrays[column] = pa.array(values, mask=np.isnan(values) & ~table.as_nan[column])
    for column in CATEGORICAL:
        arrays[column] = pa.array(table.frame[column].tolist(), type=pa.string())
    return pa.table(arrays)


@pytest.fixture(scope="module")
def duck(table: Table) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.register("arrow_source", arrow_table(table))
    connection.execute("CREATE TABLE customers AS SELECT * FROM arrow_source")
    connection.unregister("arrow_source")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def postgres_customers(postgres: psycopg.Connection, table: Table) -> psycopg.Connection:
    return load_postgres(postgres, table)


def load_postgres(postgres: psycopg.Connection, table: Table) -> psycopg.Connection:
    """``table`` as the temporary table ``customers`` of the connection (NaN kept where marked)."""
    columns = [f"{quote(ID)} BIGINT"] + [f"{quote(c)} DOUBLE PRECISION" for c in NUMERIC]
    columns += [f"{quote(c)} TEXT" for c in CATEGORICAL]
    postgres.execute("DROP TABLE IF EXISTS pg_temp.customers")
    postgres.execute(f"CREATE TEMPORARY TABLE customers ({', '.join(columns)})")
    frame = table.frame
    cells = [frame[ID].tolist()]
    for column in NUMERIC:
        values = frame[column].to_numpy(dtype=np.float64)
        cell = np.array(values.tolist(), dtype=object)
        cell[np.isnan(values)] = None
        cell[table.as_nan[column]] = float("nan")
        cells.append(cell.tolist())
    cells += [frame[c].tolist() for c in CATEGORICAL]
    with postgres.cursor().copy("COPY customers FROM STDIN") as copy:
        for row in zip(*cells, strict=True):
            copy.write_row(row)
    return postgres


def result_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS).sort_values("customer_id", ignore_index=True)


def scored(engine: str, sql: str, connection) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Rows of ``sql`` run on ``connection``; Snowflake and BigQuery SQL is first parsed back
    (it must print the same and select the contracted columns) and transpiled to DuckDB."""
    if engine in ("snowflake", "bigquery"):
        statement = sqlglot.parse_one(sql, read=engine)
        assert statement.sql(dialect=engine) == sql and statement.named_selects == COLUMNS
        assert not any(step.args.get("materialized") for step in statement.ctes)
        (sql,) = sqlglot.transpile(sql, read=engine, write="duckdb")
    return result_frame(connection.execute(sql).fetchall())


def assert_parity(result: pd.DataFrame, model: SegmentationModel, table: Table, expected: np.ndarray) -> None:
    assert len(result) == len(table.frame)
    assert result["customer_id"].tolist() == table.frame[ID].tolist()
    labels = result["segment"].to_numpy(dtype=np.int64)
    wrong = np.flatnonzero(labels != expected)
    assert wrong.size == 0, (
        f"{wrong.size} of {len(labels)} rows differ, e.g. SQL {labels[wrong[:5]].tolist()} vs "
        f"Python {expected[wrong[:5]].tolist()}\n{table.frame.iloc[wrong[:5]].to_string()}"
    )
    assert result["segment_name"].tolist() == model.names_of(expected)


MODELS = ["exemplars", "manhattan", "mixture", "diagonal"]


# The fixture holding ``customers`` in each engine; Snowflake and BigQuery SQL runs in DuckDB
# after ``scored`` parses it back and transpiles it.
CONNECTION = {
    "sqlite": "sqlite_customers",
    "duckdb": "duck",
    "postgresql": "postgres_customers",
    "snowflake": "duck",
    "bigquery": "duck",
}


@pytest.fixture(scope="module")
def sqlite_customers(table: Table) -> Iterator[sqlite3.Connection]:
    connection = load_sqlite(table)
    yield connection
    connection.close()
