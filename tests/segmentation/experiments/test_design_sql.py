"""The assignment SQL, run for real in DuckDB and PostgreSQL, returns assign()'s rows exactly."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import psycopg
import pytest

from segmentation.errors import SegmentationError
from segmentation.experiments import assign, compile_assignment, parse_arms

from .awkward import awkward_labels

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
CASES = [
    (parse_arms("control:1,treatment:1"), "5f36efce86f68877"),
    (parse_arms("control:2,email:1,call:3"), "it's a \\ salt with ünïcode"),
]


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return awkward_labels(2_000)


@pytest.fixture(scope="module")
def postgres(labels: pd.DataFrame) -> Iterator[psycopg.Connection]:
    """A connection with a TEMP table ``scored`` of the labels; gone when it closes."""
    try:
        connection = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {error}")
    with connection:
        assert connection.execute("SHOW server_encoding").fetchone() == ("UTF8",)
        connection.execute("CREATE TEMP TABLE scored (customer_id text, segment integer)")
        with connection.cursor().copy("COPY scored (customer_id, segment) FROM STDIN") as copy:
            for row in labels.itertuples(index=False):
                copy.write_row((row.customer_id, int(row.segment)))
        yield connection


def expected_rows(labels: pd.DataFrame, arms, salt: str) -> list[tuple[str, int, str]]:
    return [(c, int(s), a) for c, s, a in assign(labels, arms, salt=salt).itertuples(index=False)]


@pytest.mark.parametrize(("arms", "salt"), CASES)
def test_duckdb_repeats_the_assignment(labels, arms, salt):
    connection = duckdb.connect()
    connection.register("scored_frame", labels)
    connection.execute("CREATE TABLE scored AS SELECT * FROM scored_frame")
    rows = connection.execute(compile_assignment(arms, salt=salt, dialect="duckdb")).fetchall()
    assert rows == expected_rows(labels, arms, salt)
    # as it is against a collation that would fold case
    connection.execute("SET default_collation = 'nocase'")
    assert connection.execute(compile_assignment(arms, salt=salt, dialect="duckdb")).fetchall() == rows


@pytest.mark.parametrize(("arms", "salt"), CASES)
def test_postgresql_repeats_the_assignment(postgres, labels, arms, salt):
    rows = postgres.execute(compile_assignment(arms, salt=salt, dialect="postgresql")).fetchall()
    assert rows == expected_rows(labels, arms, salt)


def test_postgresql_ignores_a_collation_on_the_column(postgres, labels):
    """With ICU's numeric ordering "0a12" sorts after "0a9": the hex keys would be dealt in
    another order unless the statement compares them bytewise."""
    try:
        postgres.execute("CREATE COLLATION pg_temp.numeric (provider = icu, locale = 'en-u-kn-true')")
    except psycopg.errors.Error as error:
        pytest.skip(f"this PostgreSQL cannot make an ICU collation: {error}")
    postgres.execute(
        "CREATE TEMP TABLE scored_numeric AS "
        "SELECT customer_id COLLATE pg_temp.numeric AS customer_id, segment FROM scored"
    )
    arms, salt = CASES[1]
    sql = compile_assignment(arms, salt=salt, dialect="postgresql", table="scored_numeric")
    assert postgres.execute(sql).fetchall() == expected_rows(labels, arms, salt)
    # the same statement without the byte order would not repeat the assignment
    assert postgres.execute(sql.replace(' COLLATE "C"', "")).fetchall() != expected_rows(labels, arms, salt)


def test_integer_ids_are_hashed_as_their_text():
    labels = pd.DataFrame({"customer_id": [7, 10, 100, 9, 11, 12], "segment": [0, 0, 0, 1, 1, 1]})
    arms = parse_arms("control:1,treatment:1")
    connection = duckdb.connect()
    connection.register("scored", labels)
    rows = connection.execute(compile_assignment(arms, salt="x", dialect="duckdb")).fetchall()
    assert [(str(c), s, a) for c, s, a in rows] == expected_rows(labels, arms, "x")


def test_sqlite_is_refused_with_the_ways_that_work():
    with pytest.raises(
        SegmentationError, match=r"SQLite has no MD5 function.*PostgreSQL or DuckDB.*assignment\.csv"
    ):
        compile_assignment(parse_arms("control:1,treatment:1"), salt="s", dialect="sqlite")
    with pytest.raises(SegmentationError, match="unknown SQL dialect"):
        compile_assignment(parse_arms("control:1,treatment:1"), salt="s", dialect="oracle")


def test_bigquery_and_snowflake_hash_to_hex():
    arms = parse_arms("control:1,treatment:1")
    assert "TO_HEX(MD5('s' || CAST(`customer_id` AS STRING)))" in compile_assignment(
        arms, salt="s", dialect="bigquery"
    )
    assert "MD5('s' || CAST(\"customer_id\" AS VARCHAR))" in compile_assignment(
        arms, salt="s", dialect="snowflake"
    )


def test_a_qualified_table_name():
    sql = compile_assignment(
        parse_arms("control:1,treatment:1"), salt="s", dialect="postgresql", table="analytics.scored"
    )
    assert "FROM analytics.scored" in sql
    with pytest.raises(SegmentationError, match="cannot read"):
        compile_assignment(parse_arms("control:1,treatment:1"), salt="s", dialect="postgresql", table="")
