"""POST /api/v1/versions/<id>/score: the labels of the version's own model, with clear refusals."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from audit.models import AuditEvent
from segmentation import load_model
from tests.projects.helpers import NUMERIC, rerun

pytestmark = pytest.mark.django_db


def score(client, version, records):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/versions/{version.pk}/score", {"records": records}, format="json")


def labels_frame(run) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    deliverable = run.version.deliverables.get(kind="labels.csv")
    return pd.read_csv(io.BytesIO(deliverable.file.open("rb").read()), dtype={"customer_id": str})


def test_it_gives_the_same_segment_as_the_versions_labels(finished_run, consultant, api):
    version = finished_run.version
    with finished_run.dataset.file.open("rb") as handle:
        customers = pd.read_csv(io.BytesIO(handle.read()), dtype=str, keep_default_na=False)
    sample = customers.head(50)
    records = [
        {"customer_id": row["customer_id"], **{c: _number(row[c]) for c in NUMERIC}}
        for _, row in sample.iterrows()
    ]
    response = score(api(consultant), version, records)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version_hash"] == version.version_hash and body["count"] == 50
    expected = labels_frame(finished_run).set_index("customer_id")["segment"]
    for result in body["results"]:
        assert result["segment"] == expected[result["customer_id"]]
        assert result["segment_name"] == version.segment_names[result["segment"]]
        # A nearest-centroid model has no probabilities: none are invented.
        assert "probabilities" not in result


def test_null_is_a_missing_value_imputed_as_in_training(finished_run, consultant, api):
    version = finished_run.version
    model = load_model(version.model)
    record = {c: None for c in NUMERIC}
    expected = int(model.predict(pd.DataFrame([record], columns=NUMERIC))[0])
    response = score(api(consultant), version, [record])
    assert response.json()["results"][0]["segment"] == expected


def test_a_missing_or_mistyped_field_is_named(finished_run, consultant, api):
    good = dict.fromkeys(NUMERIC, 1.0)
    records = [good, {**good, "avg_basket": "lots"}, {k: v for k, v in good.items() if k != "tenure_months"}]
    response = score(api(consultant), finished_run.version, records)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["records[1].avg_basket"] == ["must be a number or null, not text"]
    assert "missing" in error["fields"]["records[2].tenure_months"][0]
    assert "records[0].recency_days" not in error["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "records"),
        ({"records": []}, "records"),
        ({"records": [1, 2]}, "records"),
        ({"records": "x"}, "records"),
    ],
)
def test_a_malformed_body_is_refused(finished_run, consultant, api, body, field):
    response = api(consultant).post(f"/api/v1/versions/{finished_run.version.pk}/score", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_it_refuses_more_records_than_the_batch_limit(finished_run, consultant, api, settings):
    settings.SCORING_BATCH_LIMIT = 3
    response = score(api(consultant), finished_run.version, [dict.fromkeys(NUMERIC, 1)] * 4)
    assert response.status_code == 400
    assert "batch limit of 3" in response.json()["error"]["message"]


def test_scoring_is_audited(finished_run, consultant, api):
    score(api(consultant), finished_run.version, [dict.fromkeys(NUMERIC, 1)] * 2)
    event = AuditEvent.objects.get(action="version.score")
    assert event.details["records"] == 2 and event.actor == consultant


def test_it_refuses_scoring_with_another_projects_version(finished_run, outsider, api):
    response = score(api(outsider), finished_run.version, [dict.fromkeys(NUMERIC, 1)])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not AuditEvent.objects.filter(action="version.score").exists()


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def test_a_mixture_version_scores_with_its_own_memberships(finished_run, consultant, api):
    run = rerun(finished_run, consultant, algorithms=["gmm"], k_min=3, k_max=3)
    labels = labels_frame(run).set_index("customer_id")
    with run.dataset.file.open("rb") as handle:
        customers = pd.read_csv(io.BytesIO(handle.read()), dtype=str, keep_default_na=False).head(40)
    records = [
        {"customer_id": row["customer_id"], **{c: _number(row[c]) for c in NUMERIC}}
        for _, row in customers.iterrows()
    ]
    response = score(api(consultant), run.version, records)
    assert response.status_code == 200, response.content
    for result in response.json()["results"]:
        probabilities = result["probabilities"]
        assert len(probabilities) == 3 and sum(probabilities) == pytest.approx(1.0, abs=1e-5)
        assert probabilities.index(max(probabilities)) == result["segment"]
        expected = labels.loc[result["customer_id"]]
        assert result["segment"] == expected["segment"]
        # labels.csv carries the same membership the API reports for the assigned segment.
        assert max(probabilities) == pytest.approx(expected["membership"], abs=1e-5)
