"""Transaction logs and Parquet/XLSX uploads through ``manage.py segment`` and the portal."""

from __future__ import annotations

import io
import json
import sqlite3

import duckdb
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from governance.models import SegmentVersion
from projects.models import Dataset
from reports.services import _scorer_bytes
from runs import services as run_services
from segmentation.synthetic.transactions import transaction_log
from tests.conftest import services_required
from tests.projects.helpers import labels_of, upload_csv
from tests.segmentation.log_databases import duckdb_runner, messy_log, postgres_runner, sqlite_runner
from tests.segmentation.spark_session import load, log_arrow, spark_unavailable, start_spark

pytestmark = pytest.mark.django_db

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "category_column": "category",
    "k_min": 2,
    "k_max": 5,
}


def messy_log_csv(n: int = 250) -> tuple[bytes, pd.DataFrame]:
    """A semicolon-delimited Latin-1 log with dd/mm/yyyy dates, refunds, a row without an id,
    a duplicated row and an unreadable date, as exports arrive."""
    log, _ = transaction_log(n, seed=12)
    log = log.astype({"category": str})
    log["timestamp"] = log["timestamp"].dt.strftime("%d/%m/%Y %H:%M")
    log.loc[3, "category"] = "Jouets & Cadeaux é"
    log = pd.concat([log, log.iloc[[10]]], ignore_index=True)
    log.loc[len(log)] = ["", "01/02/2025 10:00", 5.0, "toys"]
    log.loc[len(log)] = [log.loc[0, "customer_id"], "31/31/2025", 5.0, "toys"]
    return log.to_csv(index=False, sep=";").encode("latin-1"), log


def test_segment_on_a_transaction_log_writes_features_and_labels_one_row_per_customer(tmp_path):
    raw, log = messy_log_csv()
    data, spec, out = tmp_path / "log.csv", tmp_path / "spec.json", tmp_path / "out"
    data.write_bytes(raw)
    spec.write_text(json.dumps(SPEC))
    call_command("segment", str(data), spec=str(spec), out=str(out))

    customers = set(log["customer_id"].replace("", pd.NA).dropna())
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert len(labels) == labels["customer_id"].nunique() == len(customers)
    assert set(labels["customer_id"]) == customers
    features = pd.read_csv(out / "features.csv", dtype={"customer_id": str})
    assert features.columns[0] == "customer_id"
    assert {"recency_days", "frequency", "monetary_total", "tenure_days"} <= set(features.columns)
    assert (features["customer_id"] == labels["customer_id"]).all()

    quality = json.loads((out / "metrics.json").read_text())["data_quality"]
    assert (quality["rows_without_id"], quality["duplicate_rows"], quality["unparseable_timestamps"]) == (
        1,
        1,
        1,
    )
    assert quality["unparseable_timestamp_examples"] == ["31/31/2025"]
    assert quality["refunds"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "features.csv" in manifest["files"]


def test_a_version_without_a_stored_affinity_projection_gets_a_scorer_over_the_feature_table(tmp_path):
    # Given a version whose model reads affinity features but whose metrics lack the projection
    # (versions made before it was stored)
    raw, _ = messy_log_csv(150)
    data, spec, out = tmp_path / "log.csv", tmp_path / "spec.json", tmp_path / "out"
    data.write_bytes(raw)
    spec.write_text(json.dumps(SPEC))
    call_command("segment", str(data), spec=str(spec), out=str(out))
    version = SegmentVersion.objects.latest("created_at")
    assert "affinity" in version.metrics
    del version.metrics["affinity"]

    # When its scorer is compiled
    sql = _scorer_bytes(version, "sqlite").decode()

    # Then it reads customer_features, says why, and labels features.csv as Python does
    assert "customer_features" in sql.splitlines()[1] and "affinity_1" in sql.splitlines()[3]
    features = pd.read_csv(out / "features.csv", dtype={"customer_id": str})
    connection = sqlite3.connect(":memory:")
    features.to_sql("customer_features", connection, index=False)
    scored = pd.read_sql_query(sql, connection)
    connection.close()
    assert labels_of(scored) == labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))


@pytest.mark.slow
def test_the_transaction_scorers_label_the_raw_log_exactly_as_segment_does(tmp_path):
    # Given a messy generated log (2,000 customers, about 27,000 rows, refunds, rows without
    # an id, duplicates, NULL categories, events after as_of) segmented by manage.py segment
    log = messy_log(2000, seed=31)
    data, spec, out = tmp_path / "log.csv", tmp_path / "spec.json", tmp_path / "out"
    text = log.copy()
    text["timestamp"] = text["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text.to_csv(data, index=False)
    spec.write_text(json.dumps({**SPEC, "k_max": 4, "as_of": "2025-10-01"}))  # every group, affinity too
    call_command("segment", str(data), spec=str(spec), out=str(out))
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    profile = pd.read_csv(out / "profile.csv")
    names = dict(zip(profile["segment"], profile["name"], strict=True))
    assert len(expected) > 1500 and len(set(expected.values())) > 1
    assert "affinity_1" in json.loads((out / "metrics.json").read_text())["features"]

    runners = {"sqlite": sqlite_runner(log), "duckdb": duckdb_runner(log)}
    if connection.vendor == "postgresql":  # the test database itself (a TEMPORARY table)
        connection.ensure_connection()
        runners["postgresql"] = postgres_runner(connection.connection, log)
    elif services_required():
        pytest.fail("REQUIRE_SERVICES=1 but the test database is not PostgreSQL")
    spark = None
    if spark_unavailable() is None or services_required():  # else test_sql_spark.py says why not
        spark = start_spark()
        load(spark, log_arrow(log, ["amount"]), "transactions")
        runners["spark"] = lambda sql: spark.sql(sql).toPandas()
    try:
        for engine, run in runners.items():
            # When each engine runs its scorer over the log loaded as a table transactions
            sql = (out / f"scorer_{engine}.sql").read_text()
            assert "2025-10-01" in sql and "customer_features" not in sql
            scored = run(sql)
            # Then every customer gets the label of labels.csv, and that segment's name
            assert labels_of(scored) == expected, engine
            assert all(names[s] == n for s, n in zip(scored["segment"], scored["segment_name"], strict=True))
    finally:
        if spark is not None:
            spark.stop()


@pytest.mark.slow
def test_time_aware_segments_get_scorers_over_the_feature_table_that_label_exactly(tmp_path):
    # Given a run that clusters on the shape of activity over time (the trajectory group, which
    # the transaction SQL does not compute) and whose CLV is profiled, never clustered on
    log = messy_log(800, seed=7)
    data, spec, out = tmp_path / "log.csv", tmp_path / "spec.json", tmp_path / "out"
    text = log.copy()
    text["timestamp"] = text["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text.to_csv(data, index=False)
    spec.write_text(
        json.dumps({**SPEC, "k_max": 4, "as_of": "2025-10-01", "features": ["rfm", "trajectory"]})
    )
    call_command("segment", str(data), spec=str(spec), out=str(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert any(f.startswith("trajectory_") for f in metrics["features"])
    # Then every scorer reads features.csv as a table and gives labels.csv's labels
    features = pd.read_csv(out / "features.csv", dtype={"customer_id": str})
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    sql = (out / "scorer_sqlite.sql").read_text()
    assert "customer_features" in sql.splitlines()[1] and "trajectory_" in sql.splitlines()[3]
    database = sqlite3.connect(":memory:")
    features.to_sql("customer_features", database, index=False)
    assert labels_of(pd.read_sql_query(sql, database)) == expected
    database.close()
    duck = duckdb.connect()
    duck.register("customer_features", features)
    scored = duck.execute((out / "scorer_duckdb.sql").read_text()).fetchdf()
    assert labels_of(scored) == expected


def test_segment_reads_a_parquet_log(tmp_path):
    log, _ = transaction_log(120, seed=13)
    data, spec, out = tmp_path / "log.parquet", tmp_path / "spec.json", tmp_path / "out"
    log.to_parquet(data)
    spec.write_text(json.dumps({**SPEC, "k_max": 4, "features": ["rfm", "temporal", "windows"]}))
    call_command("segment", str(data), spec=str(spec), out=str(out))
    labels = pd.read_csv(out / "labels.csv")
    assert len(labels) == log["customer_id"].nunique()


def upload(client, project, name, content):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("runs:dataset_upload", args=[project.pk]),
        {"file": SimpleUploadedFile(name, content), "id_column": ""},
    )


@pytest.mark.parametrize("kind", ["parquet", "xlsx"])
def test_the_portal_accepts_parquet_and_xlsx_and_stores_the_bytes_encrypted(
    project, consultant, login, settings, tmp_path, kind
):
    _, frame = upload_csv(80)
    path = tmp_path / f"customers.{kind}"
    typed = frame.assign(avg_basket=pd.to_numeric(frame["avg_basket"], errors="coerce"))
    typed.to_parquet(path) if kind == "parquet" else typed.to_excel(path, index=False)
    raw = path.read_bytes()
    response = upload(login(consultant), project, path.name, raw)
    assert response.status_code == 302
    dataset = Dataset.objects.get()
    assert (dataset.row_count, dataset.id_column) == (80, "customer_id")
    assert "avg_basket" in dataset.numeric_columns
    assert dataset.file.open("rb").read() == raw
    assert raw[:64] not in (settings.VAR_DIR / "media" / dataset.file.name).read_bytes()


def test_the_run_page_lists_what_the_data_quality_checks_dropped(project, consultant, login):
    raw, _ = messy_log_csv(120)
    dataset = run_services.dataset_upload(
        project=project, name="log.csv", content=raw, id_column=None, user=consultant
    )
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert "Data quality" in page
    assert "1 row dropped: no customer id" in page
    assert "1 exact duplicate row found and kept" in page
    assert "31/31/2025" in page


def test_ids_written_na_null_or_dash_are_dropped_and_counted_on_the_run_page_and_in_the_api(
    project, consultant, login
):
    # Given a retail log in which the anonymous till purchases carry the id NA, N/A, null or -
    log, _ = transaction_log(120, seed=21)
    log = log.astype({"customer_id": object})
    log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%d %H:%M")
    anonymous = log.index % 7 == 0
    log.loc[anonymous, "customer_id"] = [
        ["NA", "N/A", "null", "-"][i % 4] for i in range(int(anonymous.sum()))
    ]
    dataset = run_services.dataset_upload(
        project=project,
        name="till.csv",
        content=log.to_csv(index=False).encode(),
        id_column=None,
        user=consultant,
    )
    # When it is segmented
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    # Then those rows are dropped and counted, and no "NA" customer holds them
    dropped = int(anonymous.sum())
    client = login(consultant)
    page = client.get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert f"{dropped} rows dropped: no customer id" in page
    assert "Customer ids read as missing, as written: " in page
    assert all(f"{word} (" in page for word in ("NA", "N/A", "null", "-"))
    quality = client.get(f"/api/v1/versions/{run.version.pk}/").json()["metrics"]["data_quality"]
    assert quality["rows_without_id"] == dropped
    assert sum(quality["missing_id_words"].values()) == dropped
    stored = run.version.deliverables.get(kind="labels.csv").file.open("rb").read()
    labels = pd.read_csv(io.BytesIO(stored), dtype={"customer_id": str}, keep_default_na=False)
    assert set(labels["customer_id"]) == set(log.loc[~anonymous, "customer_id"])
