"""The run form reaches the whole spec: one field per spec key, the engine's messages beside them."""

from __future__ import annotations

import io
import json
from dataclasses import fields

import pandas as pd
import pytest
from django.urls import reverse

from projects.models import SegmentationRun
from runs import services as run_services
from runs.run_form import spec_summary
from segmentation import SegmentationSpec
from segmentation.synthetic.transactions import transaction_log
from tests.conftest import api_key
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(project, consultant):  # type: ignore[no-untyped-def]
    raw, _ = upload_csv(240, seed=8)
    return run_services.dataset_upload(
        project=project, name="customers.csv", content=raw, id_column="customer_id", user=consultant
    )


def _post(client, project, dataset, **fields_):  # type: ignore[no-untyped-def]
    data = {"dataset": dataset.pk, "k_min": 2, "k_max": 4, "random_state": 0, **fields_}
    return client.post(reverse("runs:run_new", args=[project.pk]), data)


def test_every_spec_key_has_a_form_field_of_its_name(project, consultant, login, table):
    page = login(consultant).get(reverse("runs:run_new", args=[project.pk])).content.decode()
    for key in (f.name for f in fields(SegmentationSpec)):
        if key != "id_column":  # the dataset's, chosen at upload
            assert f'name="{key}"' in page, key
    assert 'name="spec"' in page  # the JSON editor


def test_roles_from_the_form_make_the_same_spec_as_the_api(project, consultant, login, table):
    client = login(consultant)
    response = _post(
        client,
        project,
        table,
        numeric_columns=NUMERIC[:3],
        categorical_columns=["region"],
        protected_columns=[NUMERIC[3]],
        transforms=[f"{NUMERIC[0]}:log1p"],
        reduction="pca",
        selection="silhouette",
        stability_resamples=5,
        dp_epsilon=0.5,
        dp_bounds=json.dumps({NUMERIC[0]: [0, 400]}),
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    portal = SegmentationRun.objects.get()
    spec = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC[:3],
        "categorical_columns": ["region"],
        "protected_columns": [NUMERIC[3]],
        "transforms": {NUMERIC[0]: "log1p"},
        "reduction": "pca",
        "selection": "silhouette",
        "stability_resamples": 5,
        "dp_epsilon": 0.5,
        "dp_bounds": {NUMERIC[0]: [0, 400]},
        "k_min": 2,
        "k_max": 4,
        "random_state": 0,
    }
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(consultant)}")
    answer = api.post(
        "/api/v1/runs/", {"project": project.pk, "dataset": table.pk, "spec": spec}, format="json"
    )
    assert answer.status_code in (201, 202), answer.content
    by_api = SegmentationRun.objects.get(pk=answer.json()["id"])
    assert portal.spec == by_api.spec == SegmentationSpec.from_dict(spec).to_dict()


def test_a_default_form_run_keeps_the_foundation_spec(project, consultant, login, table):
    _post(login(consultant), project, table, numeric_columns=NUMERIC, algorithms=["kmeans", "gmm", "hdbscan"])
    spec = SegmentationRun.objects.get().spec
    assert spec == {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 4,
        "random_state": 0,
    }


def test_the_engines_message_appears_beside_the_field_it_names(project, consultant, login, table):
    client = login(consultant)
    page = _post(client, project, table, numeric_columns=NUMERIC, categorical_columns=[NUMERIC[0]])
    form = page.context["form"]
    assert "give it one role" in " ".join(
        form.errors.get("categorical_columns", form.errors.get("numeric_columns", []))
    )
    page = _post(client, project, table, numeric_columns=NUMERIC, outcome_columns=[NUMERIC[1]])
    assert "an outcome is never a feature" in " ".join(page.context["form"].errors["outcome_columns"])
    assert not SegmentationRun.objects.exists()


def test_the_json_editor_is_checked_with_the_apis_messages(project, consultant, login, table):
    client = login(consultant)
    broken = _post(client, project, table, edit_mode="json", spec='{"numeric_columns": [')
    assert "not valid JSON" in " ".join(broken.context["form"].errors["spec"])
    bad = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 4, "colour": "red"}
    page = _post(client, project, table, edit_mode="json", spec=json.dumps(bad))
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key(consultant)}")
    answer = api.post(
        "/api/v1/runs/", {"project": project.pk, "dataset": table.pk, "spec": bad}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] in " ".join(page.context["form"].errors["spec"])
    good = {"numeric_columns": NUMERIC[:2], "k_min": 2, "k_max": 3}
    assert _post(client, project, table, edit_mode="json", spec=json.dumps(good)).status_code == 302
    assert SegmentationRun.objects.get().spec["numeric_columns"] == NUMERIC[:2]


def test_the_live_summary_says_the_spec_in_words(project, consultant, login, table):
    client = login(consultant)
    url = reverse("runs:run_spec_preview", args=[project.pk])
    answer = client.post(
        url,
        {
            "dataset": table.pk,
            "numeric_columns": NUMERIC,
            "protected_columns": [],
            "k_min": 2,
            "k_max": 5,
            "random_state": 3,
        },
    ).json()
    assert answer["errors"] == {} and answer["spec"]["k_max"] == 5
    assert any("240 customers" in line for line in answer["summary"])
    assert any("2 to 5 segments (seed 3)" in line for line in answer["summary"])
    wrong = client.post(
        url, {"dataset": table.pk, "numeric_columns": NUMERIC, "k_min": 5, "k_max": 2, "random_state": 0}
    ).json()
    assert wrong["spec"] is None and wrong["errors"]


def test_the_summary_warns_when_a_two_valued_flag_is_clustered_as_a_number(project, consultant, login):
    raw, _ = upload_csv(240, seed=9)
    frame = pd.read_csv(io.BytesIO(raw))
    frame["SeniorCitizen"] = (frame.index % 6 == 0).astype(int)
    dataset = run_services.dataset_upload(
        project=project,
        name="flags.csv",
        content=frame.to_csv(index=False).encode(),
        id_column="customer_id",
        user=consultant,
    )
    url = reverse("runs:run_spec_preview", args=[project.pk])
    client = login(consultant)

    def summary(numeric: list[str]) -> list[str]:
        data = {"dataset": dataset.pk, "numeric_columns": numeric, "k_min": 2, "k_max": 4, "random_state": 0}
        return client.post(url, data).json()["summary"]

    assert any(
        "SeniorCitizen hold(s) only two values" in line for line in summary([*NUMERIC, "SeniorCitizen"])
    )
    assert not any("only two values" in line for line in summary(NUMERIC))


def test_a_transaction_log_is_segmented_from_the_portal_with_rfm_and_temporal_features(
    project, consultant, login
):
    log, _ = transaction_log(150, seed=4)
    dataset = run_services.dataset_upload(
        project=project,
        name="log.csv",
        content=log.to_csv(index=False).encode(),
        id_column="customer_id",
        user=consultant,
    )
    response = _post(
        login(consultant),
        project,
        dataset,
        input_kind="transactions",
        numeric_columns=["amount"],  # a customer table's role: ignored for a log
        timestamp_column="timestamp",
        amount_column="amount",
        category_column="category",
        features=["rfm", "temporal"],
    )
    assert response.status_code == 302, response.context["form"].errors
    run = SegmentationRun.objects.get()
    assert run.spec["input_kind"] == "transactions" and run.spec["features"] == ["rfm", "temporal"]
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    assert run.version.metrics_view.customers == log["customer_id"].nunique()
    assert "recency_days" in run.version.metrics_view.features


def test_the_lifecycle_keys_reach_the_spec_from_the_portal_and_bad_ones_are_named(project, consultant, login):
    log, _ = transaction_log(150, seed=4)
    dataset = run_services.dataset_upload(
        project=project,
        name="log.csv",
        content=log.to_csv(index=False).encode(),
        id_column="customer_id",
        user=consultant,
    )
    client = login(consultant)
    fields = {
        "input_kind": "transactions",
        "timestamp_column": "timestamp",
        "amount_column": "amount",
        "features": ["rfm", "clv", "trajectory"],
    }
    bad = _post(client, project, dataset, **fields, clv_discount_rate=1.5, lifecycle_period="day")
    assert bad.status_code == 200 and not SegmentationRun.objects.exists()
    errors = bad.context["form"].errors
    assert "clv_discount_rate" in errors and "lifecycle_period" in errors
    response = _post(
        client,
        project,
        dataset,
        **fields,
        clv_horizon_days=180,
        clv_discount_rate=0.05,
        lifecycle_period="week",
    )
    assert response.status_code == 302, response.context["form"].errors
    run = SegmentationRun.objects.get()
    assert run.spec["clv_horizon_days"] == 180 and run.spec["clv_discount_rate"] == 0.05
    assert run.spec["lifecycle_period"] == "week" and run.spec["features"] == ["rfm", "clv", "trajectory"]
    assert "Lifetime value over 180 days at 5% a year" in " ".join(
        spec_summary(SegmentationSpec.from_dict(run.spec), dataset)
    )
