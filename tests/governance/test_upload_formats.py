"""A Parquet or an XLSX upload with protected columns does exactly what the same table as CSV does.

One small frame, as a client's system holds it (whole-number ids, one row without an id, an
e-mail column, a protected attribute, a whole-number band with blanks, numeric features with
planted archetypes), is written as CSV, as Parquet (by pandas, and by pyarrow alone as other
tools write it) and as XLSX (openpyxl), then taken through the layers a consultant touches: the
upload page, the privacy review, a run started through the API, the bias audit and its
deliverables, the deck and the report, erasure on the governance page and the record export;
and through ``manage.py segment``. Every format must give the CSV's labels, bias rows, risk,
erasure and export.
"""

from __future__ import annotations

import io
import json
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Dataset, SegmentationRun
from runs.services import run_execute
from segmentation import SegmentationSpec, read_csv_bytes, read_input, segment
from segmentation.protection.fairness import bias_table
from segmentation.protection.risk import privacy_report
from segmentation.synthetic.customers import customer_table
from tests.governance.helpers import segment_folder
from tests.projects.helpers import NUMERIC, labels_of
from tests.reports.helpers import pdf_text, slide_texts

# slow: a segmentation, a deck and a report per format (the whole suite runs them; the SQLite set does not)
pytestmark = pytest.mark.slow

# "parquet" is written by pandas (its metadata restores nullable integers); "arrow" by pyarrow
# alone, without pandas' metadata, as Spark, DuckDB or a warehouse export writes it.
FORMATS = ("csv", "parquet", "arrow", "xlsx")
SUFFIX = {"csv": "csv", "parquet": "parquet", "arrow": "parquet", "xlsx": "xlsx"}
ROWS = 240
CUSTOMERS = ROWS - 1  # the last row has no customer id: the engine leaves it out
SPEC = {
    "id_column": "customer_id",
    "numeric_columns": NUMERIC,
    "k_min": 2,
    "k_max": 4,
    "protected_columns": ["gender"],
}
QUASI = ["gender", "region"]
SENSITIVE = ["income_band"]


@cache
def customers(with_email: bool = True) -> pd.DataFrame:
    """The table as a client's system holds it: whole-number ids and numbers as numbers, an
    e-mail column, a gender that leans with the planted archetype (so the audit has something to
    show), a whole-number band with a few blank cells, and one row whose id is blank."""
    text, archetype = customer_table(ROWS, seed=3, messy=False)
    frame = pd.DataFrame({"customer_id": pd.array(np.arange(100001, 100001 + ROWS), dtype="Int64")})
    frame.loc[ROWS - 1, "customer_id"] = pd.NA
    if with_email:
        frame["email"] = [f"customer{i}@example.com" for i in range(ROWS)]
    for column in ("recency_days", "orders_per_year", "avg_basket"):
        frame[column] = text[column].astype(float)
    frame["tenure_months"] = text["tenure_months"].astype(int)
    frame["region"] = text["region"]
    rng = np.random.default_rng(4)
    frame["gender"] = np.where(rng.random(ROWS) < np.where(archetype < 2, 0.75, 0.3), "F", "M")
    band = pd.array(rng.integers(1, 4, ROWS), dtype="Int64")
    band[rng.random(ROWS) < 0.05] = pd.NA
    frame["income_band"] = band
    return frame


def file_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "csv":
        buffer.write(frame.to_csv(index=False).encode())
    elif fmt == "parquet":
        frame.to_parquet(buffer, index=False, engine="pyarrow")
    elif fmt == "arrow":
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        pq.write_table(table, buffer)
    else:
        frame.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


@cache
def reference() -> tuple[dict[str, int], list[dict], dict]:
    """The engine on the CSV reading of the table, e-mail dropped: labels, bias rows and risk."""
    frame = read_input(file_bytes(customers().drop(columns=["email"]), "csv"))
    result = segment(frame, SegmentationSpec.from_dict(SPEC))
    labels = labels_of(result.labels)
    joined = result.labels.astype({"customer_id": str}).merge(
        result.attributes.astype({"customer_id": str}), on="customer_id"
    )
    rows = json.loads(bias_table(joined["segment"], joined[["gender"]]).to_json(orient="records"))
    return labels, rows, privacy_report(frame, QUASI, SENSITIVE).to_dict()


def download(client, version, kind):  # type: ignore[no-untyped-def]
    deliverable = version.deliverables.get(kind=kind)
    response = client.get(reverse("runs:deliverable_download", args=[deliverable.pk]))
    assert response.status_code == 200, kind
    return b"".join(response.streaming_content) if response.streaming else response.content


def by_key(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["attribute"], int(r["segment"]), str(r["group"])): r for r in rows}


def assert_rows_equal(actual: list[dict], expected: list[dict]) -> None:
    actual_rows, expected_rows = by_key(actual), by_key(expected)
    assert actual_rows.keys() == expected_rows.keys()
    for key, row in expected_rows.items():
        for column, value in row.items():
            if isinstance(value, float):
                assert actual_rows[key][column] == pytest.approx(value, abs=1e-12), (key, column)
            else:
                assert actual_rows[key][column] == value, (key, column)


def upload(client, project, fmt, frame):  # type: ignore[no-untyped-def]
    """The upload page takes the file; returns its redirect and the dataset."""
    upload = SimpleUploadedFile(f"customers.{SUFFIX[fmt]}", file_bytes(frame, fmt))
    response = client.post(
        reverse("runs:dataset_upload", args=[project.pk]), {"file": upload, "id_column": "customer_id"}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    dataset = Dataset.objects.get(project=project)
    assert dataset.row_count == ROWS
    return response, dataset


def run_through_api(api_client, project, dataset):  # type: ignore[no-untyped-def]
    """A run with a protected column, started through the API and executed as the worker would."""
    started = api_client.post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": SPEC}, format="json"
    )
    assert started.status_code == 201, started.content
    run = run_execute(run_id=started.json()["id"])
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.error
    return run.version


def assert_labels_and_bias(client, version, frame) -> None:  # type: ignore[no-untyped-def]
    # the labels are the engine's on the CSV of the same data, whatever the format
    expected_labels, expected_rows, _ = reference()
    assert len(expected_labels) == CUSTOMERS
    labels = read_csv_bytes(download(client, version, "labels.csv"))
    assert labels_of(labels) == expected_labels

    # the bias record's group shares are the crosstab of the labels by gender
    audit = version.bias_audit
    assert audit.protected_columns == ["gender"]
    merged = labels.merge(known(frame), on="customer_id")
    in_segment = pd.crosstab(merged["gender"], merged["segment"], normalize="index")
    of_segment = pd.crosstab(merged["gender"], merged["segment"], normalize="columns")
    sizes = merged["gender"].value_counts()
    rows = by_key(audit.rows)
    assert len(rows) == in_segment.size
    for group in in_segment.index:
        for segment_number in in_segment.columns:
            row = rows[("gender", int(segment_number), group)]
            assert row["segment_share"] == pytest.approx(in_segment.loc[group, segment_number])
            assert row["share_of_segment"] == pytest.approx(of_segment.loc[group, segment_number])
            assert row["group_size"] == sizes[group]
    assert_rows_equal(audit.rows, expected_rows)

    # bias.csv and bias.json are deliverables, and say what the record says
    bias_csv = pd.read_csv(io.BytesIO(download(client, version, "bias.csv")), dtype={"group": str})
    assert_rows_equal(json.loads(bias_csv.to_json(orient="records")), audit.rows)
    findings = json.loads(download(client, version, "bias.json"))
    assert findings["protected_columns"] == ["gender"] and findings["findings"] == audit.findings["findings"]


def known(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with an id, keyed by the id as text (as labels.csv and the client write it)."""
    return frame.dropna(subset=["customer_id"]).astype({"customer_id": str})


def erase(client, project, dataset, version, target, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    """Erasing a customer on the governance page removes them from the table and the labels."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("governance:project", args=[project.pk]), {"original_id": target}, follow=True
        )
    assert "Customer erased: 1 row(s) from 1 dataset(s) and 1 label file(s)." in response.content.decode()
    dataset.refresh_from_db()
    table = dataset.read_table()
    assert target not in set(table["customer_id"].dropna()) and len(table) == ROWS - 1
    assert dataset.row_count == ROWS - 1
    labels = read_csv_bytes(download(client, version, "labels.csv"))
    assert target not in set(labels["customer_id"]) and len(labels) == CUSTOMERS - 1


def assert_export_holds(client, version, frame, erased: set[str]) -> None:  # type: ignore[no-untyped-def]
    """The record export holds every remaining customer with their segment and quasi-identifiers."""
    response = client.post(
        reverse("reports:version_records_export", args=[version.pk]),
        {"quasi_identifiers": ",".join(QUASI), "generalise": "1"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv", response.content.decode()[-2000:]
    export = read_csv_bytes(response.content)
    # the delivered labels' columns (a mixture's winner adds its membership), then the quasi-identifiers
    labels = read_csv_bytes(download(client, version, "labels.csv"))
    assert list(export.columns) == [*labels.columns, *QUASI]
    assert list(labels.columns[:2]) == ["customer_id", "segment"]
    remaining = {k: v for k, v in reference()[0].items() if k not in erased}
    assert labels_of(export) == remaining
    source = known(frame).set_index("customer_id").loc[list(remaining)]
    for column in QUASI:
        assert export.set_index("customer_id")[column].to_dict() == source[column].to_dict()


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_upload_with_personal_data_and_protected_columns_does_what_the_csv_does(
    fmt, project, consultant, login, api, tmp_path, django_capture_on_commit_callbacks
):
    frame = customers()
    client = login(consultant)

    # the upload sends the consultant to its privacy review, which found the e-mail column
    response, dataset = upload(client, project, fmt, frame)
    assert response["Location"] == reverse("governance:privacy_review", args=[dataset.pk])
    assert {f["column"]: f["kind"] for f in dataset.privacy_review.findings} == {"email": "email"}
    page = client.get(response["Location"]).content.decode()
    assert "E-mail addresses" in page and "customer0@example.com" not in page

    # confirming the review through its form drops the e-mail column
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("governance:privacy_review", args=[dataset.pk]),
            {"quasi_identifiers": QUASI, "sensitive": SENSITIVE},
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    dataset.refresh_from_db()
    assert dataset.privacy_review.is_confirmed
    stored = dataset.read_table()
    assert "email" not in stored.columns and len(stored) == ROWS
    # the review's risk (k on the quasi-identifiers, l and t on the sensitive band) is the CSV's
    assert dataset.privacy_review.risk == reference()[2]

    version = run_through_api(api(consultant), project, dataset)
    assert_labels_and_bias(client, version, frame)

    # the deck and the report present the bias section
    (tmp_path / "deck.pptx").write_bytes(download(client, version, "deck.pptx"))
    slides = slide_texts(tmp_path / "deck.pptx")
    assert "gender" in slides["Bias audit"] and "No protected attributes declared" not in slides["Bias audit"]
    report = pdf_text(io.BytesIO(download(client, version, "report.pdf")))
    assert "Protected attributes audited: gender" in report.split("Bias audit")[-1]

    target = str(frame["customer_id"].iloc[7])
    erase(client, project, dataset, version, target, django_capture_on_commit_callbacks)
    assert_export_holds(client, version, frame, erased={target})


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_upload_without_personal_data_is_stored_as_sent_and_does_what_the_csv_does(
    fmt, project, consultant, login, api, django_capture_on_commit_callbacks
):
    frame = customers(with_email=False)
    client = login(consultant)

    # nothing to review: the upload goes straight to the run form, its file kept as sent
    response, dataset = upload(client, project, fmt, frame)
    assert response["Location"].startswith(reverse("runs:run_new", args=[project.pk]))
    assert dataset.privacy_review.is_confirmed

    version = run_through_api(api(consultant), project, dataset)
    assert_labels_and_bias(client, version, frame)
    assert_export_holds(client, version, frame, erased=set())

    target = str(frame["customer_id"].iloc[7])
    erase(client, project, dataset, version, target, django_capture_on_commit_callbacks)
    assert_export_holds(client, version, frame, erased={target})


def segment_file(tmp_path, fmt):  # type: ignore[no-untyped-def]
    """``manage.py segment`` on the table (no e-mail) as ``fmt``; returns the output folder."""
    folder = tmp_path / fmt
    folder.mkdir()
    source = f"customers.{SUFFIX[fmt]}"
    (folder / source).write_bytes(file_bytes(customers(with_email=False), fmt))
    (folder / "spec.json").write_text(json.dumps(SPEC))
    return segment_folder(folder, source=source)


@pytest.mark.parametrize("fmt", ["parquet", "arrow", "xlsx"])
def test_segment_command_writes_the_same_bias_audit_for_parquet_and_xlsx_as_for_csv(db, tmp_path, fmt):
    expected = segment_file(tmp_path, "csv")
    out = segment_file(tmp_path, fmt)

    for name in ("labels.csv", "bias.csv"):
        assert (out / name).read_bytes() == (expected / name).read_bytes(), name
    assert json.loads((out / "bias.json").read_text()) == json.loads((expected / "bias.json").read_text())
    assert set(pd.read_csv(out / "bias.csv")["attribute"]) == {"gender"}
