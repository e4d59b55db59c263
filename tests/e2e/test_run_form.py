"""The run form in Chromium: a live summary of the spec, groups by table kind, JSON for experts."""

from __future__ import annotations

import json

import pytest

from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_form_summarises_its_spec_live_and_starts_from_json(open_session, project, consultant):
    from runs import services as run_services

    raw, _ = upload_csv(200, seed=2)
    dataset = run_services.dataset_upload(
        project=project, name="customers.csv", content=raw, id_column="customer_id", user=consultant
    )
    me = open_session("run-form")
    me.login(consultant.username)
    page = me.page
    page.goto(f"/projects/{project.pk}/runs/new/?dataset={dataset.pk}")
    page.wait_for_selector("#spec-summary li:not(.muted)")
    assert "200 customers" in page.inner_text("#spec-summary")

    page.check(f"input[name=protected_columns][value={NUMERIC[3]}]")
    page.uncheck(f"input[name=numeric_columns][value={NUMERIC[3]}]")
    page.wait_for_function("() => document.querySelector('#spec-summary').textContent.includes('Bias audit')")
    me.shot("01-customers")

    # A log shows its own group and hides the customer table's roles.
    page.check("input[name=input_kind][value=transactions]")
    page.wait_for_selector("#group-log", state="visible")
    assert page.locator("td.role-numeric_columns").first.is_hidden()
    me.shot("02-log")
    page.check("input[name=input_kind][value=customers]")
    page.wait_for_selector("#group-log", state="hidden")

    # The JSON editor starts from the spec the form describes; a run starts from it.
    page.click("#json-mode summary")
    page.wait_for_function(
        "() => document.querySelector('textarea[name=spec]').value.includes('protected_columns')"
    )
    spec = json.loads(page.input_value("textarea[name=spec]"))
    assert spec["protected_columns"] == [NUMERIC[3]] and NUMERIC[3] not in spec["numeric_columns"]
    spec["k_max"] = 3
    page.fill("textarea[name=spec]", json.dumps(spec))
    page.click("button[name=edit_mode][value=json]")
    page.wait_for_url("**/runs/*/")
    from projects.models import SegmentationRun

    run = SegmentationRun.objects.get()
    assert run.spec["k_max"] == 3 and run.spec["protected_columns"] == [NUMERIC[3]]
    assert not me.errors, me.errors
