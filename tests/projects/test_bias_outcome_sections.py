"""The results page's bias and outcome sections, for a Telco-like table run from the portal form."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from fairlearn.metrics import MetricFrame, selection_rate

from governance.selectors import version_stored_labels
from projects.models import SegmentationRun
from runs import services as run_services
from segmentation.explain.outcomes import wilson_interval
from tests.projects.telco import TELCO_CATEGORICAL, TELCO_NUMERIC, TELCO_OUTCOME, TELCO_PROTECTED, telco_csv

pytestmark = pytest.mark.django_db


def _cells(page: str, table_id: str) -> dict[str, dict[str, str]]:
    """The table's rows by ``data-segment``: each cell's text by ``data-group`` (or column)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', page, re.S)
    assert table, f"no table {table_id} on the page"
    rows = {}
    for segment, body in re.findall(r'<tr[^>]*data-segment="([^"]+)">(.*?)</tr>', table.group(0), re.S):
        rows[segment] = {
            group: re.sub(r"<[^>]+>", "", text)
            for group, text in re.findall(r'data-group="([^"]+)">(.*?)</td>', body, re.S)
        }
        rows[segment]["_value"] = " ".join(re.findall(r'class="num value">(.*?)</td>', body))
    return rows


def _percent(text: str) -> float:
    return float(text.strip().rstrip("%")) / 100


@pytest.fixture
def telco_run(project, consultant, login):  # type: ignore[no-untyped-def]
    """The table uploaded and run through the portal's own pages, the run executed in process."""
    client = login(consultant)
    raw, frame = telco_csv(1200, seed=3)
    upload = {"file": _named(raw, "telco.csv"), "id_column": "customer_id"}
    assert client.post(reverse("runs:dataset_upload", args=[project.pk]), upload).status_code == 302
    dataset = project.datasets.get()
    response = client.post(
        reverse("runs:run_new", args=[project.pk]),
        {
            "dataset": dataset.pk,
            "numeric_columns": TELCO_NUMERIC,
            "categorical_columns": TELCO_CATEGORICAL,
            "protected_columns": TELCO_PROTECTED,
            "outcome_columns": TELCO_OUTCOME,
            "k_min": 3,
            "k_max": 4,
            "stability_resamples": 0,
            "random_state": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    run = run_services.run_execute(run_id=SegmentationRun.objects.get().pk)
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.error
    page = client.get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    labels = version_stored_labels(run.version)
    assert labels is not None
    labels = labels.astype({"customer_id": str})[["customer_id", "segment"]]
    joined = frame.astype({"customer_id": str}).merge(labels, on="customer_id")
    return page, joined


def _named(raw: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, raw, content_type="text/csv")


def test_the_shares_shown_are_fairlearns_selection_rates_and_churn_rates_come_with_intervals(telco_run):
    page, joined = telco_run
    assert 'id="bias"' in page and "Bias audit" in page
    for attribute in TELCO_PROTECTED:
        groups = joined[attribute].astype(str)
        shown = _cells(page, f"bias-{attribute.lower()}")
        composition = pd.crosstab(joined["segment"], groups, normalize="index")
        for segment in sorted(joined["segment"].unique()):
            member = (joined["segment"] == segment).astype(int)
            rates = MetricFrame(
                metrics=selection_rate, y_true=member, y_pred=member, sensitive_features=groups
            ).by_group
            for group, rate in rates.items():
                cell = shown[str(segment)][str(group)]
                share_text, rate_text = re.match(r"\s*([\d.]+%)\s*\(([\d.]+%)\)", cell).groups()  # type: ignore[union-attr]
                assert _percent(rate_text) == pytest.approx(rate, abs=0.0006), (attribute, segment, group)
                assert _percent(share_text) == pytest.approx(composition.loc[segment, group], abs=0.0006)
        overall = groups.value_counts(normalize=True)
        for group, share in overall.items():
            assert _percent(shown["overall"][group]) == pytest.approx(share, abs=0.0006)
    # The largest disparity in words, with the segment and the overall share.
    headline = re.search(r'id="bias-headline-seniorcitizen"><strong>(.*?)</strong>', page).group(1)  # type: ignore[union-attr]
    assert re.match(
        r"Customers with SeniorCitizen = [01] make up [\d.]+% of segment \d.* against [\d.]+% overall\.",
        headline,
    )
    assert "MetricFrame" in page and "four-fifths rule" in page and "AUC" in page

    # The outcome section: churn per segment with its Wilson interval and the chi-square test.
    assert 'id="outcomes"' in page
    shown = _cells(page, "outcome-churn")
    churned = (joined["Churn"] == "Yes").astype(int)
    for segment, members in churned.groupby(joined["segment"]):
        assert _percent(shown[str(segment)]["_value"]) == pytest.approx(members.mean(), abs=0.0006)
        low, high = wilson_interval(int(members.sum()), len(members))
        assert f"{100 * low:.1f}% – {100 * high:.1f}%" in page
    assert "Chi-square test of independence" in page and "Cramér&#x27;s V" in page
    rates = churned.groupby(joined["segment"]).mean()
    assert np.ptp(rates.to_numpy()) > 0.1  # churn follows the contract, and the segments show it


def test_a_run_without_declarations_says_so_and_links_to_the_run_form(finished_run, consultant, login):
    page = login(consultant).get(reverse("runs:run_detail", args=[finished_run.pk])).content.decode()
    run_form = reverse("runs:run_new", args=[finished_run.project.pk])
    for box in ("bias-none", "outcomes-none"):
        text = re.search(rf'id="{box}">(.*?)</p>', page, re.S).group(1)  # type: ignore[union-attr]
        assert f'href="{run_form}?dataset={finished_run.dataset_id}"' in text
        assert "run form" in text and "protected_columns" not in text
    assert "No protected attributes were declared" in page
    version_page = login(consultant).get(reverse("governance:version_detail", args=[finished_run.version.pk]))
    text = re.search(r'id="bias-none">(.*?)</p>', version_page.content.decode(), re.S).group(1)  # type: ignore[union-attr]
    assert f'href="{run_form}?dataset={finished_run.dataset_id}"' in text
