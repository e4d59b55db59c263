"""``manage.py segment``: the contract later issues extend."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook
from pptx import Presentation
from pypdf import PdfReader

from audit.models import AuditEvent
from governance.models import SegmentVersion
from projects.models import Project
from segmentation.synthetic.customers import SPEND_COLUMNS, spend_mix
from tests.conftest import ROOT, need
from tests.projects.helpers import (
    NUMERIC,
    labels_of,
    score_in_postgresql,
    score_in_sqlite,
    typed_customers,
    upload_csv,
)

pytestmark = pytest.mark.django_db

FILES = {
    "labels.csv",
    "profile.csv",
    "features.csv",
    "metrics.json",
    "scorer_postgresql.sql",
    "scorer_sqlite.sql",
    "scorer_duckdb.sql",
    "scorer_snowflake.sql",
    "scorer_bigquery.sql",
    "scorer_spark.sql",
    "scorer_databricks.sql",
    "deck.pptx",
    "manifest.json",
    "report.pdf",
    "labels.xlsx",
    "profile.xlsx",
    "rules.txt",
    "rules.json",
    "rules.csv",
}


@pytest.fixture
def inputs(tmp_path):  # type: ignore[no-untyped-def]
    raw, frame = upload_csv(600, seed=21)
    data = tmp_path / "customers.csv"
    data.write_bytes(raw)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "id_column": "customer_id",
                "numeric_columns": NUMERIC,
                "k_min": 2,
                "k_max": 6,
                "random_state": 3,
            }
        )
    )
    return data, spec, frame


def segment(data, spec, out, **extra):  # type: ignore[no-untyped-def]
    call_command("segment", str(data), spec=str(spec), out=str(out), **extra)
    return out


def test_it_writes_every_contracted_file_with_its_hash_in_the_manifest(inputs, tmp_path):
    data, spec, _frame = inputs
    out = segment(data, spec, tmp_path / "out")
    assert {p.name for p in out.iterdir()} == FILES
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == FILES - {"manifest.json"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]
    version = SegmentVersion.objects.get()
    assert manifest["version_hash"] == version.version_hash
    assert manifest["version_id"] == version.label


def test_labels_cover_every_customer_and_profile_names_every_segment(inputs, tmp_path):
    data, spec, frame = inputs
    out = segment(data, spec, tmp_path / "out")
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    assert list(labels.columns) == ["customer_id", "segment"]
    assert sorted(labels["customer_id"]) == sorted(frame["customer_id"])
    profile = pd.read_csv(out / "profile.csv")
    assert sorted(labels["segment"].unique()) == list(profile["segment"])
    assert profile["name"].notna().all() and profile["name"].is_unique
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["missing_total"] == sum(metrics["missing"].values()) > 0
    deck_text = " ".join(
        shape.text_frame.text
        for slide in Presentation(out / "deck.pptx").slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    report_text = " ".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    for name in profile["name"]:
        assert name in deck_text
        assert name in " ".join(report_text.split())
    workbook = load_workbook(out / "labels.xlsx").active
    assert workbook.max_row == len(labels) + 1


def test_the_sqlite_scorer_reproduces_every_label(inputs, tmp_path):
    data, spec, frame = inputs
    out = segment(data, spec, tmp_path / "out")
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    scored = score_in_sqlite((out / "scorer_sqlite.sql").read_text(), typed_customers(frame, NUMERIC))
    assert labels_of(scored) == expected


def test_the_duckdb_scorer_reproduces_every_label(inputs, tmp_path):
    import duckdb

    data, spec, frame = inputs
    out = segment(data, spec, tmp_path / "out")
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    connection = duckdb.connect()
    connection.register("customers", typed_customers(frame, NUMERIC))
    scored = connection.execute((out / "scorer_duckdb.sql").read_text().rstrip().rstrip(";")).df()
    assert labels_of(scored) == expected


def test_the_postgresql_scorer_reproduces_every_label(inputs, tmp_path):
    from django.db import connection

    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    data, spec, frame = inputs
    out = segment(data, spec, tmp_path / "out")
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    sql = (out / "scorer_postgresql.sql").read_text()
    assert labels_of(score_in_postgresql(sql, typed_customers(frame, NUMERIC), NUMERIC)) == expected


def test_the_same_data_spec_and_seed_give_the_same_version_hash_and_labels(inputs, tmp_path):
    data, spec, _ = inputs
    first = segment(data, spec, tmp_path / "a")
    second = segment(data, spec, tmp_path / "b")
    hashes = [json.loads((d / "manifest.json").read_text())["version_hash"] for d in (first, second)]
    assert hashes[0] == hashes[1]
    assert (first / "labels.csv").read_bytes() == (second / "labels.csv").read_bytes()
    v1, v2 = SegmentVersion.objects.order_by("number")
    assert v2.parent == v1


def test_without_project_runs_are_filed_under_a_local_project_and_audited(inputs, tmp_path):
    data, spec, _ = inputs
    segment(data, spec, tmp_path / "out")
    project = Project.objects.get(name="Local command-line runs")
    assert project.versions.count() == 1
    actions = set(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert {"dataset.upload", "run.start", "run.succeeded", "version.create", "deliverable.export"} <= actions


def test_with_project_the_run_is_filed_under_that_project(inputs, tmp_path):
    data, spec, _ = inputs
    segment(data, spec, tmp_path / "out", project="Churn study")
    assert Project.objects.get(name="Churn study").versions.count() == 1


@pytest.mark.parametrize(
    ("spec_text", "message"),
    [
        ('{"id_column": "customer_id", "numeric_columns": ["avg_basket"], "colour": 1}', "colour"),
        ('{"id_column": "customer_id", "numeric_columns": ["avg_basket"], "k_max": "six"}', "'k_max'"),
        ('{"id_column": "customer_id", "numeric_columns": ["nope"]}', "nope"),
        ('{"id_column": "missing_id", "numeric_columns": ["avg_basket"]}', "missing_id"),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_spec_is_refused_with_a_message_naming_the_problem(inputs, tmp_path, spec_text, message):
    data, spec, _ = inputs
    spec.write_text(spec_text)
    with pytest.raises(CommandError, match=message):
        segment(data, spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_on_the_command_line_bad_input_prints_a_message_not_a_traceback(tmp_path):
    data = tmp_path / "empty.csv"
    data.write_bytes(b"")
    spec = tmp_path / "spec.json"
    spec.write_text('{"id_column": "id", "numeric_columns": ["x"]}')
    database = tmp_path / "cli.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}", "VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "segment",
            str(data),
            "--spec",
            str(spec),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_rules_explain_the_segments_and_their_sql_case_agrees_with_the_labels(inputs, tmp_path):
    data, spec, frame = inputs
    out = segment(data, spec, tmp_path / "out")
    rules = json.loads((out / "rules.json").read_text())
    profile = pd.read_csv(out / "profile.csv")
    assert 0.8 <= rules["fidelity"] <= 1.0
    assert {r["segment_name"] for r in rules["rules"]} <= set(profile["name"])
    text = (out / "rules.txt").read_text()
    assert f"{rules['fidelity']:.0%}" in text and "CASE" in text
    table = pd.read_csv(out / "rules.csv")
    assert list(table.columns) == [
        "segment",
        "segment_name",
        "rule",
        "share_of_customers",
        "precision",
        "model_fidelity",
    ]
    assert (table["model_fidelity"] - rules["fidelity"]).abs().max() < 1e-4

    # The CASE expression, run by SQLite on the customers table, labels like the model.
    customers = typed_customers(frame, NUMERIC)
    scored = score_in_sqlite(f"SELECT customer_id, {rules['sql_case']} AS segment FROM customers", customers)
    labels = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    agreement = sum(labels[c] == s for c, s in labels_of(scored).items()) / len(labels)
    assert agreement >= rules["fidelity"] - 0.05


def test_a_cosine_run_delivers_a_sqlite_scorer_that_reproduces_labels_csv(tmp_path):
    frame, _ = spend_mix(500, seed=8)
    frame = frame.astype(object)
    frame.loc[::37, "fashion_spend"] = None  # blank cells: missing, filled as in the model
    data = tmp_path / "customers.csv"
    frame.to_csv(data, index=False)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "id_column": "customer_id",
                "numeric_columns": list(SPEND_COLUMNS),
                "distance": "cosine",
                "reduction": "pca",
                "k_min": 2,
                "k_max": 5,
                "stability_resamples": 0,
            }
        )
    )
    out = segment(data, spec, tmp_path / "out")
    assert json.loads((out / "metrics.json").read_text())["space"]["distance"] == "cosine"
    sql = (out / "scorer_sqlite.sql").read_text()
    assert "SQRT(" in sql
    expected = labels_of(pd.read_csv(out / "labels.csv", dtype={"customer_id": str}))
    customers = typed_customers(pd.read_csv(data, dtype=str), list(SPEND_COLUMNS))
    assert labels_of(score_in_sqlite(sql, customers)) == expected
