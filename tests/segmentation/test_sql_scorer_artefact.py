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

from segmentation.errors import SegmentationError
from segmentation.model.artefact import SegmentationModel
from segmentation.model.assigners import GaussianMixtureAssigner, NearestExemplars, Projection
from segmentation.model.columns import libm_log
from segmentation.model.preprocess import Preprocessor
from segmentation.sql.scorer import compile_scorer

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
def models() -> dict[str, SegmentationModel]:
    return build_models()[0]


@pytest.fixture(scope="module")
def table(models: dict[str, SegmentationModel]) -> Table:
    return hostile_table(np.random.default_rng(7), models["exemplars"], ROWS)


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
# The fixture holding ``customers`` in each engine; Snowflake and BigQuery SQL runs in DuckDB
# after ``scored`` parses it back and transpiles it.
CONNECTION = {
    "sqlite": "sqlite_customers",
    "duckdb": "duck",
    "postgresql": "postgres_customers",
    "snowflake": "duck",
    "bigquery": "duck",
}


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


@pytest.fixture(scope="module")
def sqlite_customers(table: Table) -> Iterator[sqlite3.Connection]:
    connection = load_sqlite(table)
    yield connection
    connection.close()


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
