"""A log's lifecycle deliverables (lifecycle.json, clv.csv, movers.csv), the scoring API's lifetime
values, and the privacy rules on them: erased with the customer, withheld under a DP policy."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from rest_framework.test import APIClient

from governance.erasure import customer_erase
from projects.models import SegmentationRun
from reports.services import deliverable_fetch
from runs import services as run_services
from segplatform.errors import ApplicationError
from tests.conftest import api_key
from tests.segmentation.lifecycle.simulated_log import simulated_log

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "as_of": "2025-01-01",
    "k_min": 3,
    "k_max": 3,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
}


def _run(project, consultant, **spec):  # type: ignore[no-untyped-def]
    log = simulated_log(700, seed=8)
    dataset = run_services.dataset_upload(
        project=project,
        name="log.csv",
        content=log.to_csv(index=False).encode(),
        id_column=None,
        user=consultant,
    )
    run = run_services.run_start(
        project=project, dataset=dataset, spec={**SPEC, **spec}, user=consultant, enqueue=False
    )
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.error
    return run


def _file(version, kind: str) -> bytes:  # type: ignore[no-untyped-def]
    with version.deliverables.get(kind=kind).file.open("rb") as handle:
        return handle.read()


def _csv(version, kind: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.read_csv(io.BytesIO(_file(version, kind)), dtype={"customer_id": str})


def _score(user, version, records):  # type: ignore[no-untyped-def]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client.post(f"/api/v1/versions/{version.pk}/score", {"records": records}, format="json")


@pytest.fixture
def log_run(project, consultant):  # type: ignore[no-untyped-def]
    return _run(project, consultant)


def test_the_lifecycle_files_are_delivered_and_hashed(log_run):
    version = log_run.version
    assert json.loads(_file(version, "lifecycle.json")) == version.metrics["lifecycle"]
    clv, features = _csv(version, "clv.csv"), _csv(version, "features.csv")
    labels = _csv(version, "labels.csv")
    assert list(clv["customer_id"]) == list(labels["customer_id"])
    assert (clv["segment"].to_numpy() == labels["segment"].to_numpy()).all()
    joined = clv.merge(features, on="customer_id", suffixes=("", "_features"))
    for column in ("p_alive", "expected_purchases_365", "clv_365"):
        pd.testing.assert_series_equal(joined[column], joined[f"{column}_features"], check_names=False)
    assert {"lifecycle_state", "churn_probability"} <= set(clv.columns)
    movers = _csv(version, "movers.csv")
    assert list(movers.columns) == ["customer_id", "segment", "state", "target", "probability"]
    assert (movers["probability"] >= 0.5).all()
    assert len(movers) == version.metrics["lifecycle"]["movers"]["customers"]
    manifest = json.loads(_file(version, "manifest.json"))
    assert {"lifecycle.json", "clv.csv", "movers.csv"} <= set(manifest["files"])


def test_the_scoring_api_returns_each_customers_lifetime_value(log_run, consultant):
    version = log_run.version
    features, clv = _csv(version, "features.csv"), _csv(version, "clv.csv").set_index("customer_id")
    fields = [c for c in features.columns if c != "customer_id"]
    rows = features.head(5)
    records = [
        {
            "customer_id": row["customer_id"],
            **{c: (None if pd.isna(row[c]) else float(row[c])) for c in fields},
        }
        for _, row in rows.iterrows()
    ]
    records.append({**records[0], "customer_id": "NOT-A-CUSTOMER"})
    response = _score(consultant, version, records)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    for result in results[:5]:
        expected = clv.loc[result["customer_id"]]
        assert result["p_alive"] == pytest.approx(expected["p_alive"], abs=1e-6)
        assert result["clv_365"] == pytest.approx(expected["clv_365"], abs=1e-6)
        assert result["expected_purchases_365"] == pytest.approx(expected["expected_purchases_365"], abs=1e-6)
        assert "clv_note" not in result
    stranger = results[5]
    assert stranger["p_alive"] is None and stranger["clv_365"] is None
    assert "not a customer this version valued" in stranger["clv_note"]


def test_erasing_a_customer_removes_them_from_the_lifecycle_files_and_the_api(log_run, consultant):
    version = log_run.version
    movers = _csv(version, "movers.csv")
    clv = _csv(version, "clv.csv")
    customer = str(movers["customer_id"].iloc[0]) if len(movers) else str(clv["customer_id"].iloc[0])
    customer_erase(project=log_run.project, original_id=customer, user=consultant)
    assert customer not in set(_csv(version, "clv.csv")["customer_id"])
    assert customer not in set(_csv(version, "movers.csv")["customer_id"])
    features = _csv(version, "features.csv")
    row = features[features["customer_id"] != customer].iloc[0]
    record = {c: (None if pd.isna(row[c]) else float(row[c])) for c in features.columns if c != "customer_id"}
    response = _score(consultant, version, [{**record, "customer_id": customer}])
    assert response.json()["results"][0]["p_alive"] is None


def test_under_a_dp_policy_the_per_customer_values_stay_on_the_platform(project, consultant):
    run = _run(project, consultant, dp_epsilon=1.0)
    version = run.version
    for kind in ("clv.csv", "movers.csv", "lifecycle.json"):
        with pytest.raises(ApplicationError, match="withheld"):
            deliverable_fetch(deliverable=version.deliverables.get(kind=kind), user=consultant)
    features = _csv(version, "features.csv")
    row = features.iloc[0]
    record = {c: (None if pd.isna(row[c]) else float(row[c])) for c in features.columns if c != "customer_id"}
    result = _score(consultant, version, [{**record, "customer_id": row["customer_id"]}]).json()["results"][0]
    assert "p_alive" not in result and "clv_365" not in result
