"""Runs on sources that push the feature work down: DuckDB files, Parquet folders, PostgreSQL.

The reference is Python: the labels every source writes back must be the fitted model's
``predict`` on :func:`segmentation.customer_features` of the same log, customer by customer;
the sample's strata are recomputed in pandas from Python's features.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pyarrow.parquet as pq
import pytest

from segmentation import SegmentationError, SegmentationSpec, clean_transactions, customer_features
from segmentation.data.transactions import default_as_of as python_default_as_of
from segmentation.sources import (
    MIN_PER_STRATUM,
    DuckDBSource,
    ParquetSource,
    PostgresSource,
    SourceRun,
    segment_source,
    source_from_text,
)
from segmentation.sources.plan import default_as_of, last_event_sql
from tests.segmentation.log_databases import messy_log, postgres_runner

AS_OF = dt.date(2025, 10, 1)
SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "category_column": "category",
    "as_of": AS_OF.isoformat(),
    # one algorithm at one k keeps the fit short; the sweep is not what is tested here
    "algorithms": ["kmeans"],
    "k_min": 4,
    "k_max": 4,
    "stability_resamples": 0,
}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return messy_log(3000, seed=33)


@pytest.fixture(scope="module")
def duckdb_file(log: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duck") / "shop.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("log", log)
        connection.execute("CREATE TABLE orders AS SELECT * FROM log")
    return path


@pytest.fixture(scope="module")
def duckdb_run(duckdb_file: Path) -> SourceRun:
    source = DuckDBSource(duckdb_file, table="orders")
    run = segment_source(source, SegmentationSpec.from_dict(SPEC), sample_size=600, labels_table="seg_labels")
    source.close()
    return run


def python_features(log: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    events = clean_transactions(log, SegmentationSpec.from_dict(SPEC))
    frame = customer_features(events.frame, as_of=AS_OF, groups=groups).frame
    return frame.set_index("customer_id").sort_index()


def assert_labels_are_predict_on_python_features(
    run: SourceRun, labels: pd.DataFrame, log: pd.DataFrame
) -> None:
    expected = python_features(log, run.metrics["feature_groups"])
    want = pd.Series(run.model.predict(expected.reset_index()), index=expected.index)
    got = labels.assign(customer_id=labels["customer_id"].astype(str)).set_index("customer_id")["segment"]
    assert sorted(got.index) == sorted(want.index)
    differ = (got.sort_index().to_numpy() != want.sort_index().to_numpy()).sum()
    assert differ == 0, f"{differ} of {len(want)} customers labelled differently"
    assert got.nunique() == run.model.n_segments


def test_labels_written_back_to_a_duckdb_file_are_the_models_labels_on_pythons_features(
    duckdb_run: SourceRun, duckdb_file: Path, log: pd.DataFrame
) -> None:
    with duckdb.connect(str(duckdb_file), read_only=True) as connection:
        written = connection.execute("SELECT * FROM seg_labels").df()
    assert_labels_are_predict_on_python_features(duckdb_run, written, log)
    assert duckdb_run.labels is not None and len(duckdb_run.labels) == len(written)
    assert set(duckdb_run.labels["segment_name"]) == set(duckdb_run.result.profile["name"])


def test_only_the_feature_table_and_the_labels_travel(duckdb_run: SourceRun, log: pd.DataFrame) -> None:
    metrics = duckdb_run.metrics
    customers = metrics["customers"]
    assert customers == len(python_features(log, ["rfm"]))
    assert metrics["rows_fetched"]["features"] == customers
    assert metrics["rows_fetched"]["labels"] == customers
    assert metrics["rows_fetched"]["summaries"] <= 26  # one summary row, one row per stratum
    assert customers * 10 < len(log)
    assert set(metrics["seconds"]) == {"features", "strata", "sample", "fit", "score", "labels"}


def test_the_sample_is_stratified_by_frequency_and_spend_quintiles(
    duckdb_run: SourceRun, log: pd.DataFrame
) -> None:
    features = python_features(log, ["rfm"]).reset_index()
    n = len(features)
    # NTILE(5): sorted rows cut into 5 runs, the first n % 5 one longer
    tile = np.repeat(np.arange(5), [n // 5 + (i < n % 5) for i in range(5)])
    by_f = features.sort_values(["frequency", "customer_id"]).index.to_numpy()
    by_m = features.sort_values(["monetary_total", "customer_id"]).index.to_numpy()
    stratum = np.empty(n, dtype=int)
    stratum[by_f] = tile * 5
    stratum[by_m] += tile
    strata = pd.Series(stratum, index=features["customer_id"])

    sample = duckdb_run.sample
    assert len(sample) == 600 < n
    assert (sample["_seg_stratum"].to_numpy() == strata[sample["customer_id"].astype(str)].to_numpy()).all()
    sizes = strata.value_counts()
    kept = sample["_seg_stratum"].value_counts().reindex(sizes.index, fill_value=0)
    assert (kept >= np.minimum(MIN_PER_STRATUM, sizes)).all(), "a non-empty stratum is missing"
    # beyond the floor, proportional allocation: within one customer of its share of the rest
    floor = np.minimum(MIN_PER_STRATUM, sizes)
    share = (600 - floor.sum()) * (sizes - floor) / (sizes - floor).sum()
    assert (abs(kept - floor - share) < 1).all()
    reported = {int(s): v for s, v in duckdb_run.metrics["strata"].items()}
    assert {s: v["customers"] for s, v in reported.items()} == sizes.to_dict()
    assert duckdb_run.metrics["sampled"] == 600


def test_the_same_seed_draws_the_same_sample_and_everyone_is_kept_when_few(
    duckdb_file: Path, duckdb_run: SourceRun
) -> None:
    source = DuckDBSource(duckdb_file, table="orders")
    again = segment_source(source, SegmentationSpec.from_dict(SPEC), sample_size=600)
    everyone = segment_source(source, SegmentationSpec.from_dict(SPEC), sample_size=10_000)
    source.close()
    assert again.sample["customer_id"].tolist() == duckdb_run.sample["customer_id"].tolist()
    assert everyone.metrics["sampled"] == everyone.metrics["customers"]


def test_an_existing_labels_table_is_replaced_only_when_asked(
    duckdb_file: Path, duckdb_run: SourceRun
) -> None:
    source = DuckDBSource(duckdb_file, table="orders")
    with pytest.raises(SegmentationError, match="'seg_labels' already exists"):
        segment_source(source, SegmentationSpec.from_dict(SPEC), labels_table="seg_labels")
    source.close()


def test_a_parquet_folder_of_several_files_labels_every_customer_and_writes_parquet(
    log: pd.DataFrame, tmp_path: Path
) -> None:
    folder = tmp_path / "log"
    (folder / "2025").mkdir(parents=True)
    for i, rows in enumerate(np.array_split(np.arange(len(log)), 4)):
        log.iloc[rows].to_parquet(folder / ("2025" if i % 2 else "") / f"part-{i}.parquet", index=False)
    labels_csv, labels_parquet = tmp_path / "labels.csv", tmp_path / "labels.parquet"
    run = segment_source(
        ParquetSource(folder),
        SegmentationSpec.from_dict(SPEC),
        sample_size=600,
        labels_csv=labels_csv,
        labels_parquet=labels_parquet,
    )
    from_csv = pd.read_csv(labels_csv, dtype={"customer_id": str})
    assert_labels_are_predict_on_python_features(run, from_csv, log)
    from_parquet = pd.read_parquet(labels_parquet)
    assert_labels_are_predict_on_python_features(run, from_parquet, log)
    assert run.labels is None and run.labels_csv == labels_csv


@pytest.mark.services
def test_postgresql_computes_the_features_and_keeps_the_labels_table(
    log: pd.DataFrame, postgres: psycopg.Connection
) -> None:
    postgres_runner(postgres, log)  # a TEMPORARY table "transactions"
    postgres.execute("DROP TABLE IF EXISTS seg_source_test_labels")
    try:
        run = segment_source(
            PostgresSource(None, "transactions", connection=postgres),
            SegmentationSpec.from_dict(SPEC),
            sample_size=600,
            labels_table="seg_source_test_labels",
        )
        written = postgres.execute("SELECT customer_id, segment FROM seg_source_test_labels").fetchall()
    finally:
        postgres.execute("DROP TABLE IF EXISTS seg_source_test_labels")
    labels = pd.DataFrame(written, columns=["customer_id", "segment"])
    assert_labels_are_predict_on_python_features(run, labels, log)
    assert run.metrics["sampled"] == 600 and run.metrics["dialect"] == "postgresql"


@pytest.mark.services
def test_a_postgresql_source_text_reads_a_named_table_through_its_own_connection(
    log: pd.DataFrame, postgres: psycopg.Connection, postgres_dsn: str
) -> None:
    postgres_runner(postgres, log)
    postgres.execute("DROP TABLE IF EXISTS seg_source_test_log")
    postgres.execute("CREATE TABLE seg_source_test_log AS SELECT * FROM pg_temp.transactions")
    try:
        source = source_from_text(f"postgresql:{postgres_dsn}#seg_source_test_log")
        assert isinstance(source, PostgresSource)
        counted = pd.concat(list(source.batches("SELECT customer_id FROM transactions", size=7_000)))
        source.close()
    finally:
        postgres.execute("DROP TABLE IF EXISTS seg_source_test_log")
    assert len(counted) == len(log)
    assert "password" not in source.describe()


@pytest.mark.parametrize("groups", [["rfm", "affinity"], ["rfm", "clv"], ["trajectory"]])
def test_a_group_that_needs_the_whole_log_in_python_is_refused(duckdb_file: Path, groups: list[str]) -> None:
    source = DuckDBSource(duckdb_file, table="orders")
    with pytest.raises(
        SegmentationError, match=r"need the whole log in Python .* run on a file instead"
    ) as error:
        segment_source(source, SegmentationSpec.from_dict({**SPEC, "features": groups}))
    source.close()
    assert groups[-1] in str(error.value) and error.value.key == "features"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mysql://host/db", "unknown source kind 'mysql'"),
        ("shop.duckdb", "cannot read the source 'shop.duckdb': write it as duckdb:<file>:<table>"),
        ("duckdb:/nowhere/shop.duckdb:orders", "no DuckDB file at /nowhere/shop.duckdb"),
        ("parquet:/nowhere/logs", "no Parquet file matches /nowhere/logs"),
        ("postgresql://u@127.0.0.1/db", "names no table: end it with #<table>"),
    ],
)
def test_a_bad_source_text_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(SegmentationError, match=message.replace("(", r"\(")):
        source_from_text(text)


def test_a_duckdb_source_text_names_a_missing_table(duckdb_file: Path) -> None:
    with pytest.raises(SegmentationError, match="has no table 'sales'; its tables are orders"):
        source_from_text(f"duckdb:{duckdb_file}:sales")
    source = source_from_text(f"duckdb:{duckdb_file}:orders")
    assert isinstance(source, DuckDBSource) and source.table == "orders"
    source.close()


def test_without_as_of_the_engine_takes_the_day_after_the_last_event_as_python_does(
    duckdb_file: Path, log: pd.DataFrame
) -> None:
    spec = SegmentationSpec.from_dict({k: v for k, v in SPEC.items() if k != "as_of"})
    source = DuckDBSource(duckdb_file, table="orders")
    last = next(source.batches(last_event_sql(spec, "duckdb")))["last_t"][0]
    source.close()
    assert default_as_of(last) == python_default_as_of(clean_transactions(log, spec))


def test_source_texts_open_parquet_and_name_a_bad_memory_limit(log: pd.DataFrame, tmp_path: Path) -> None:
    log.to_parquet(tmp_path / "log.parquet", index=False)
    source = source_from_text(f"parquet:{tmp_path}", memory_limit="300MB")
    assert isinstance(source, ParquetSource) and source.describe().endswith("(memory_limit 300MB)")
    assert next(source.batches("SELECT COUNT(*) AS n FROM transactions"))["n"][0] == len(log)
    source.close()
    with pytest.raises(SegmentationError, match="cannot read the memory limit 'lots'"):
        ParquetSource(tmp_path, memory_limit="lots")


def write_big_log(folder: Path, *, files: int, events_per_file: int, customers: int) -> int:
    """A plain log written file by file (never whole in memory); its size in pandas, bytes."""
    rng = np.random.default_rng(5)
    categories = np.array([f"cat {i}" for i in range(12)] + [None], dtype=object)
    start = pd.Timestamp("2024-01-01").value // 10**9
    size = 0
    for i in range(files):
        n = events_per_file
        part = pd.DataFrame(
            {
                "customer_id": "C" + pd.Series(rng.integers(0, customers, n)).astype(str).str.zfill(7),
                "timestamp": pd.to_datetime(start + rng.integers(0, 730 * 86_400, n), unit="s"),
                "amount": np.round(rng.lognormal(3, 1, n) * np.where(rng.random(n) < 0.05, -1, 1), 2),
                "category": categories[rng.integers(0, len(categories), n)],
            }
        )
        size += int(part.memory_usage(deep=True).sum())
        part.to_parquet(folder / f"events-{i:02d}.parquet", index=False)
    return size


def test_a_parquet_log_larger_than_duckdbs_memory_limit_gives_pythons_features(tmp_path: Path) -> None:
    # given ~3M events whose pandas frame is several times DuckDB's memory limit
    folder = tmp_path / "big"
    folder.mkdir()
    in_pandas = write_big_log(folder, files=6, events_per_file=500_000, customers=300_000)
    limit = 200 * 2**20
    assert in_pandas > 2 * limit
    source = ParquetSource(folder, memory_limit="200MB", temp_directory=str(tmp_path / "spill"))
    assert next(source.batches("SELECT current_setting('memory_limit') AS m"))["m"][0] in (
        "200.0 MiB",
        "190.7 MiB",
    )

    # when the whole run goes through DuckDB
    run = segment_source(source, SegmentationSpec.from_dict(SPEC), sample_size=2_000)

    # then the sampled customers' features are Python's, computed from their rows only
    sample = run.sample.set_index("customer_id").sort_index()
    assert len(sample) == 2_000 < run.metrics["customers"]
    rows = pq.read_table(folder, filters=[("customer_id", "in", sample.index.tolist())]).to_pandas()
    expected = python_features(rows, run.metrics["feature_groups"])
    assert expected.index.tolist() == sample.index.tolist()
    compared = [c for c in expected.columns if c in sample.columns]
    assert len(compared) >= 20
    for column in compared:
        want, got = expected[column].to_numpy(dtype=float), sample[column].to_numpy(dtype=float)
        same = (want == got) | (np.isnan(want) & np.isnan(got))
        assert same.all(), f"{column}: {(~same).sum()} of {len(want)} differ"
    # and so are their labels
    assert run.labels is not None
    labels = run.labels.set_index("customer_id")["segment"].loc[expected.index]
    assert (labels.to_numpy() == run.model.predict(expected.reset_index())).all()
