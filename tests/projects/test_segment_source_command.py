"""``manage.py segment_source``: a DuckDB file segmented where it lives, deliverables in --out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from segmentation import SegmentationSpec, clean_transactions, customer_features, load_model
from tests.segmentation.log_databases import messy_log

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
