"""``manage.py segment_source``: a DuckDB file segmented where it lives, deliverables in --out."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from segmentation import SegmentationSpec, clean_transactions, customer_features, load_model
from tests.segmentation.log_databases import messy_log
from tests.segmentation.spark_session import require_spark

AS_OF = dt.date(2025, 10, 1)
SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "category_column": "category",
    "as_of": AS_OF.isoformat(),
    "algorithms": ["kmeans"],
    "k_min": 3,
    "k_max": 3,
    "stability_resamples": 0,
}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    log = messy_log(1500, seed=8)
    database = tmp_path / "shop.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.register("log", log)
        connection.execute("CREATE TABLE sales AS SELECT * FROM log")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    return database, spec, log


def test_it_writes_every_customers_label_the_model_and_the_metrics(
    shop: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    database, spec, log = shop
    out = tmp_path / "out"
    call_command(
        "segment_source",
        source=f"duckdb:{database}:sales",
        spec=spec,
        out=out,
        sample_size=500,
        labels_table="segments",
    )

    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str}).set_index("customer_id")
    metrics = json.loads((out / "metrics.json").read_text())
    model = load_model((out / "model.json").read_bytes())
    events = clean_transactions(log, SegmentationSpec.from_dict(SPEC))
    features = customer_features(events.frame, as_of=AS_OF, groups=metrics["feature_groups"]).frame
    want = pd.Series(model.predict(features), index=features["customer_id"]).sort_index()
    assert labels.index.sort_values().tolist() == want.index.tolist()
    assert (labels["segment"].loc[want.index].to_numpy() == want.to_numpy()).all()
    assert metrics["customers"] == len(want) > metrics["sampled"] == 500
    with duckdb.connect(str(database), read_only=True) as connection:
        assert connection.execute("SELECT COUNT(*) FROM segments").fetchone() == (len(want),)
    assert "FROM transactions" in (out / "scorer.sql").read_text().replace('"transactions"', "transactions")


def test_it_refuses_a_source_it_cannot_read_with_the_reason(
    shop: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    _, spec, _ = shop
    with pytest.raises(CommandError, match="unknown source kind 'oracle'"):
        call_command("segment_source", source="oracle:db#t", spec=spec, out=tmp_path / "out")


@pytest.mark.slow
def test_a_spark_parquet_source_labels_every_customer_and_stops_its_own_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_spark()
    from pyspark.sql import SparkSession

    monkeypatch.chdir(tmp_path)  # a session's default warehouse is spark-warehouse/ in the working folder
    # py4j logs its own shutdown after pytest has closed the streams it would write to
    logging.getLogger("py4j").setLevel(logging.WARNING)
    # Spark's 200 shuffle partitions are 200 tasks a stage for a 600-customer log: two are plenty
    monkeypatch.setenv(
        "PYSPARK_SUBMIT_ARGS", "--conf spark.sql.shuffle.partitions=2 --driver-memory 1g pyspark-shell"
    )

    log = messy_log(600, seed=9)
    folder = tmp_path / "log"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(log)), 2)):
        # microseconds: Spark refuses Parquet timestamps in nanoseconds
        log.iloc[rows].to_parquet(folder / f"part-{i}.parquet", index=False, coerce_timestamps="us")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    out = tmp_path / "out"
    call_command(
        "segment_source",
        source=f"spark:local[2]:parquet:{folder}",
        spec=spec,
        out=out,
        sample_size=200,
        labels_parquet=tmp_path / "labels.parquet",
    )

    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str}).set_index("customer_id")
    model = load_model((out / "model.json").read_bytes())
    events = clean_transactions(log, SegmentationSpec.from_dict(SPEC))
    metrics = json.loads((out / "metrics.json").read_text())
    features = customer_features(events.frame, as_of=AS_OF, groups=metrics["feature_groups"]).frame
    want = pd.Series(model.predict(features), index=features["customer_id"]).sort_index()
    assert labels.index.sort_values().tolist() == want.index.tolist()
    assert (labels["segment"].loc[want.index].to_numpy() == want.to_numpy()).all()
    from_parquet = pd.read_parquet(tmp_path / "labels.parquet").set_index("customer_id")["segment"]
    assert (from_parquet.loc[want.index].to_numpy() == want.to_numpy()).all()
    assert metrics["dialect"] == "spark" and metrics["source"] == f"spark:local[2]:parquet:{folder}"
    assert SparkSession.getActiveSession() is None, "the session the command started is stopped"
