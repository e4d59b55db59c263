"""A Telco-like table in Chromium: no idle upload bar, roles set on the run form, the run on the
worker, and the results page's bias and outcome sections."""

from __future__ import annotations

import re

import pytest

from tests.projects.telco import telco_csv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_results_page_shows_bias_and_outcomes_set_on_the_run_form(
    celery_worker, open_session, project, consultant, tmp_path
):
    me = open_session("bias-outcomes")
    page = me.page
    me.login(consultant.username)

    # The upload page: no progress bar before a file is chosen, nor once chosen and not yet sent.
    page.goto(f"/projects/{project.pk}/datasets/upload/")
    assert page.locator("#upload-progress").is_hidden()
    assert not page.get_by_text("Starting").is_visible()
    me.shot("01-upload-idle")
    raw, _ = telco_csv(1500, seed=3)
    csv = tmp_path / "telco.csv"
    csv.write_bytes(raw)
    page.set_input_files("#id_file", str(csv))
    page.fill("#id_id_column", "customer_id")
    assert page.locator("#upload-progress").is_hidden()
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/runs/new/\?dataset=\d+$"))

    # The run form: categories, protected attributes and the outcome ticked in the roles grid.
    page.uncheck("input[name=numeric_columns][value=SeniorCitizen]")
    for role, column in (
        ("categorical_columns", "Contract"),
        ("categorical_columns", "PaymentMethod"),
        ("protected_columns", "SeniorCitizen"),
        ("protected_columns", "gender"),
        ("outcome_columns", "Churn"),
    ):
        page.check(f"input[name={role}][value={column}]")
    page.fill("#id_k_min", "3")
    page.fill("#id_k_max", "4")
    page.fill("#id_stability_resamples", "0")
    page.wait_for_function("() => document.querySelector('#spec-summary').textContent.includes('Bias audit')")
    me.shot("02-run-form")
    page.click("button:has-text('Start run')")

    # The worker runs it; the results page shows both sections.
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))
    page.wait_for_selector("#results", timeout=180_000)
    bias = page.locator("#bias")
    assert "Customers with SeniorCitizen = " in bias.inner_text()
    assert page.locator("#bias-seniorcitizen tbody tr").count() >= 4  # segments and all customers
    assert page.locator("#bias-gender").is_visible()
    outcomes = page.locator("#outcomes")
    assert "Churn is highest in" in outcomes.inner_text()
    assert "Chi-square test of independence" in outcomes.inner_text()
    assert page.locator("#outcome-churn tbody tr").count() >= 3
    assert page.locator("#download-all a").get_attribute("href", timeout=5_000).endswith("/deliverables.zip")
    me.shot("03-results")
    shots = me.shot("03-results").parent
    bias.screenshot(path=str(shots / f"{me.name}-04-bias.png"))
    outcomes.screenshot(path=str(shots / f"{me.name}-05-outcomes.png"))
    assert not me.errors, me.errors
