"""A run on a Spark source: a Parquet-folder log segmented by a local Spark session.

The reference is Python, as for the other sources: every label Spark writes (as Parquet, into a
managed table, into ``labels.csv``) must be the fitted model's ``predict`` on
:func:`segmentation.customer_features` of the same log; and the sample must be the very sample
the DuckDB Parquet source draws from the same files with the same seed (the strata are NTILEs
over a total order, the within-stratum pick a hash of the id). One ``local[2]`` session serves
the module; without Java or pyspark it is skipped, unless ``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation import SegmentationError, SegmentationSpec
from segmentation.sources import ParquetSource, SourceRun, SparkSource, segment_source, source_from_text
from tests.segmentation.log_databases import messy_log
from tests.segmentation.spark_session import require_spark, start_spark
from tests.segmentation.test_sources import SPEC, assert_labels_are_predict_on_python_features

CUSTOMERS = 2000
SAMPLE = 500


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    require_spark()
    session = start_spark(warehouse=str(tmp_path_factory.mktemp("warehouse")))
    session.conf.set("spark.sql.session.timeZone", "America/New_York")  # the source must set UTC
    yield session
    session.stop()


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return messy_log(CUSTOMERS, seed=41)


@pytest.fixture(scope="module")
def folder(log: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The log in four Parquet files, two of them in a subfolder, as pandas writes them
    (nanosecond timestamps without a zone)."""
    folder = tmp_path_factory.mktemp("log")
    (folder / "2025").mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(log)), 4)):
        log.iloc[rows].to_parquet(folder / ("2025" if i % 2 else "") / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def spark_run(spark: Any, folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[SourceRun, Path]:
    out = tmp_path_factory.mktemp("out")
    source = SparkSource(spark, parquet=folder)
    try:
        run = segment_source(
            source,
            SegmentationSpec.from_dict(SPEC),
            sample_size=SAMPLE,
            labels_table="seg_spark_labels",
            labels_parquet=out / "labels.parquet",
            labels_csv=out / "labels.csv",
            batch_size=700,  # several batches, so the stream is exercised
        )
    finally:
        source.close()
    return run, out


def test_spark_labels_every_customer_as_the_model_predicts_on_pythons_features(
    spark_run: tuple[SourceRun, Path], log: pd.DataFrame
) -> None:
    run, out = spark_run
    from_csv = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert_labels_are_predict_on_python_features(run, from_csv, log)
    parquet = out / "labels.parquet"
    assert parquet.is_dir() and list(parquet.glob("part-*.parquet")), "Spark writes a folder of part files"
    assert_labels_are_predict_on_python_features(run, pd.read_parquet(parquet), log)
    assert run.metrics["dialect"] == "spark" and run.metrics["source"].startswith("spark:session:parquet:")
    assert run.metrics["rows_fetched"]["features"] == run.metrics["customers"] == len(from_csv)


def test_spark_draws_the_same_sample_as_duckdb_from_the_same_files_and_seed(
    spark_run: tuple[SourceRun, Path], folder: Path
) -> None:
    run, _ = spark_run
    duck = segment_source(ParquetSource(folder), SegmentationSpec.from_dict(SPEC), sample_size=SAMPLE)
    assert len(run.sample) == SAMPLE
    got = run.sample[["customer_id", "_seg_stratum"]].astype({"customer_id": str, "_seg_stratum": int})
    want = duck.sample[["customer_id", "_seg_stratum"]].astype({"customer_id": str, "_seg_stratum": int})
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert run.metrics["strata"] == duck.metrics["strata"]
    assert run.metrics["features"] == duck.metrics["features"]
    # the same sample's features, so the same fit and the same segments
    assert (run.result.labels.to_numpy() == duck.result.labels.to_numpy()).all()


def test_the_session_is_left_running_and_as_it_was(spark: Any, spark_run: tuple[SourceRun, Path]) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
    assert not spark.catalog.tableExists("transactions")
    assert not spark.catalog.tableExists("_seg_source_features")
    assert spark.range(3).count() == 3


def test_a_managed_labels_table_is_written_and_replaced_only_when_asked(
    spark: Any, spark_run: tuple[SourceRun, Path], folder: Path, log: pd.DataFrame
) -> None:
    run, _ = spark_run
    written = spark.table("seg_spark_labels").toPandas()
    assert_labels_are_predict_on_python_features(run, written, log)
    source = SparkSource(spark, parquet=folder)
    try:
        # refused before any work in the engine
        with pytest.raises(SegmentationError, match="'seg_spark_labels' already exists"):
            segment_source(source, SegmentationSpec.from_dict(SPEC), labels_table="seg_spark_labels")
    finally:
        source.close()


def test_a_spark_table_is_read_as_the_log(spark: Any, folder: Path) -> None:
    spark.read.option("recursiveFileLookup", "true").parquet(str(folder)).createOrReplaceTempView(
        "shop_orders"
    )
    source = SparkSource(spark, table="shop_orders")
    try:
        counted = next(source.batches("SELECT COUNT(*) AS n FROM transactions"))
        assert source.describe() == "spark:session#shop_orders"
    finally:
        source.close()
        spark.catalog.dropTempView("shop_orders")
    assert int(counted["n"].iloc[0]) == len(pd.read_parquet(folder))
    assert not spark.catalog.tableExists("transactions")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spark:local[1]", "names no table or Parquet folder"),
        ("spark:#sales", "needs a master and a table"),
        ("spark:local[1]#", "needs a master and a table"),
        ("spark::parquet:/data", "names no table or Parquet folder"),
        ("spark:local[1]#drop table x", "is not a plain table name"),
    ],
)
def test_bad_spark_source_text_is_refused_with_the_form_to_use(text: str, message: str) -> None:
    with pytest.raises(SegmentationError, match=message):
        source_from_text(text)


def test_a_missing_table_or_folder_is_named_in_the_refusal(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(SegmentationError, match="Spark has no table or view 'nowhere'"):
        SparkSource(spark, table="nowhere")
    with pytest.raises(SegmentationError, match="Spark cannot read Parquet at"):
        SparkSource(spark, parquet=tmp_path / "empty")
    with pytest.raises(SegmentationError, match="either a table or a Parquet folder"):
        SparkSource(spark)


def test_nanosecond_parquet_timestamps_are_refused_with_the_way_to_write_them(
    spark: Any, log: pd.DataFrame, tmp_path: Path
) -> None:
    events = pa.Table.from_pandas(log.head(50), preserve_index=False)
    at = events.schema.get_field_index("timestamp")
    pq.write_table(
        events.set_column(at, "timestamp", events["timestamp"].cast(pa.timestamp("ns"))),
        tmp_path / "a.parquet",
    )
    with pytest.raises(SegmentationError, match=r"TIMESTAMP\(NANOS.*coerce_timestamps='us'"):
        SparkSource(spark, parquet=tmp_path)


def test_source_text_opens_a_parquet_folder_in_the_running_session(spark: Any, folder: Path) -> None:
    source = source_from_text(f"spark:local[2]:parquet:{folder}")
    try:
        assert isinstance(source, SparkSource) and not source.owns_session
        assert source.describe() == f"spark:local[2]:parquet:{folder}"
        counted = next(source.batches("SELECT COUNT(*) AS n FROM transactions"))
        assert int(counted["n"].iloc[0]) == len(pd.read_parquet(folder))
    finally:
        source.close()
    assert spark.range(1).count() == 1  # getOrCreate handed back the module's session: not stopped
