"""The results page's Lifecycle section: a log run in process, read back through the Django test
client, every figure the one the engine stored (``metrics["clv"]``, ``metrics["lifecycle"]`` and
``movers.csv``), and the engine's reason where it made no figure."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from projects.models import SegmentationRun
from reports.formatting import format_number
from reports.services import deliverable_read
from runs import services as run_services
from tests.segmentation.later_log import AS_OF, planted_log

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "k_min": 3,
    "k_max": 3,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
    "as_of": AS_OF,
}


def _run(project: Any, consultant: Any, log: pd.DataFrame, **spec: Any) -> SegmentationRun:
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


def spend_log(customers: int, seed: int = 3) -> pd.DataFrame:
    """Six months of purchases before as_of where each customer has a spend level of their own
    (a log-normal mean, baskets gamma-distributed around it), so a Gamma-Gamma model can tell
    the levels apart; purchase rates and drop-out times differ by customer too."""
    rng = np.random.default_rng(seed)
    start, as_of = pd.Timestamp("2025-01-01"), pd.Timestamp(AS_OF)
    days = (as_of - start).days
    rows = []
    for number in range(customers):
        level = rng.lognormal(np.log(60.0), 0.9)
        first = rng.uniform(0, days * 0.8)
        last = first + rng.exponential(days * 0.8)  # drops out here
        rate = rng.gamma(2.0, 1 / 15)  # purchases a day
        when = first
        while when < min(last, days - 1):
            rows.append(
                (f"S{number:04d}", start + pd.Timedelta(days=when), round(rng.gamma(10, level / 10), 2))
            )
            when += rng.exponential(1 / rate)
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).sort_values("timestamp")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _found(pattern: str, text: str, group: int = 0) -> str:
    match = re.search(pattern, text, re.S)
    assert match, f"{pattern!r} not on the page"
    return match.group(group)


def _part(page: str, part: str) -> str:
    found = re.search(
        rf'<div id="lifecycle-{part}">(.*?)</div>\s*(?=<div id="lifecycle-|</section>)', page, re.S
    )
    assert found, f"no lifecycle-{part} part on the page"
    return found.group(1)


def _rows(table: str, key: str) -> dict[str, list[str]]:
    return {
        k: [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
        for k, row in re.findall(rf'<tr {key}="([^"]+)">(.*?)</tr>', table, re.S)
    }


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def test_the_lifecycle_section_shows_what_the_run_stored(project, consultant, login):
    run = _run(project, consultant, planted_log().drop(columns="planted"))
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert '<section class="card" id="lifecycle">' in page
    stored, clv = run.version.metrics["lifecycle"], run.version.metrics["clv"]

    # lifetime value: each segment's figures, and the pooled spend said with its reason
    part = _part(page, "clv")
    rows = _rows(part, "data-segment")
    for entry in stored["clv"]["by_segment"]:
        cells = rows[str(entry["segment"])]
        assert cells == [
            entry["name"],
            str(entry["customers"]),
            pct(entry["p_alive_mean"]),
            format_number(entry["expected_purchases_mean"]),
            format_number(entry["clv_mean"]),
            format_number(entry["clv_total"]),
            pct(entry["clv_share"]),
        ]
    assert sum(e["clv_share"] for e in stored["clv"]["by_segment"]) == pytest.approx(1.0)
    assert format_number(stored["clv"]["total"]) in _text(_found(r'id="lifecycle-clv-total">.*?</tr>', part))
    pooled = clv["pooled_spend"]
    assert clv["gamma_gamma"] is None and pooled["mean"] > 0
    assert _text(_found(r'id="lifecycle-clv-model">(.*?)</p>', part, 1)) == (
        f"Lifetime value over 365 days, discounted at 10% a year, from a BG/NBD purchase model fitted on "
        f"{clv['customers']} customers, spend valued at the pooled mean of {format_number(pooled['mean'])} "
        f"per purchase day, because {pooled['reason'].rstrip('.')}."
    )
    holdout = clv["holdout"]
    assert _text(_found(r'id="lifecycle-holdout">(.*?)</p>', part, 1)) == (
        f"Checked on {format_number(holdout['weeks'])} weeks after 1 July 2025: predicted "
        f"{format_number(holdout['predicted'])} purchase days, actual {format_number(holdout['actual'])} "
        f"(mean absolute error per customer {format_number(holdout['mean_absolute_error'])})."
    )
    shown = _rows(part, "data-frequency")
    for group in holdout["by_frequency"]:
        assert shown[group["frequency"]][1:] == [
            str(group["customers"]),
            format_number(group["predicted_mean"]),
            format_number(group["actual_mean"]),
        ]

    # cohorts: a cell of the triangle, the empty corner beyond it, and a segment's own triangle
    part = _part(page, "cohorts")
    cohorts = stored["cohorts"]
    assert "Retention by month of first purchase" in part
    whole = _found(r'<table[^>]*id="lifecycle-retention".*?</table>', part)
    triangle = _rows(whole, "data-cohort")
    second = cohorts["cohorts"][1]
    assert triangle[second][1] == str(cohorts["customers"][1])
    assert triangle[second][3] == pct(cohorts["retention"][1][1])  # cohort, customers, offset 0, 1, ...
    assert cohorts["retention"][1][-1] is None and triangle[second][-1] == ""
    assert 'style="background: rgba(29, 78, 216, 1.00)' in whole  # offset 0 is everyone
    details = re.findall(
        r'<details class="lifecycle-segment-cohorts" data-segment="(\d+)">(.*?)</details>', part, re.S
    )
    segment = next(s for s in cohorts["by_segment"] if s["customers"][0])
    own = _rows(dict(details)[str(segment["segment"])], "data-cohort")
    assert own[cohorts["cohorts"][0]][3] == pct(segment["retention"][0][1])

    # states: the fit in words, a transition in the table and as an arrow, none below 5%
    part = _part(page, "states")
    states = stored["states"]
    assert _text(_found(r'id="lifecycle-states-fit">(.*?)</p>', part, 1)) == (
        f"States through 2025-06, fitted on {states['fitted_customers']} customers; "
        f"{states['chosen_states']} states chosen by BIC among 2–{max(int(k) for k in states['bic'])}."
    )
    names, matrix = states["names"], states["transition_matrix"]
    table = _rows(part, "data-state")
    for i, name in enumerate(names):
        assert table[name][1 : 1 + len(names)] == [pct(p) for p in matrix[i]]
        assert table[name][-1] == pct(states["next_period"][name])
        assert f"stays {pct(matrix[i][i])}" in _text(
            _found(rf'<g class="state" data-state="{name}">.*?</g>', part)
        )
    arrows = dict(
        ((a, b), _text(label))
        for a, b, label in re.findall(
            r'<g class="transition" data-from="(\w+)" data-to="(\w+)">(.*?)</g>', part
        )
    )
    expected = {
        (names[i], names[j]): pct(p)
        for i, row in enumerate(matrix)
        for j, p in enumerate(row)
        if i != j and p >= 0.05
    }
    assert arrows == expected and len(arrows) < len(names) * (len(names) - 1)
    mix = _rows(_found(r'id="lifecycle-state-mix".*?</table>', part), "data-segment")
    for entry in states["by_segment"]:
        assert mix[str(entry["segment"])][-1] == pct(entry["churn_probability_mean"])

    # movers: the count, by segment, the top 20 as in movers.csv, and its download
    part = _part(page, "movers")
    movers = stored["movers"]
    assert movers["customers"] > 20
    assert _text(part).startswith(
        f"Likely movers {movers['customers']} customers are likely (≥50%) to be dormant within 3 months."
    )
    for entry in movers["by_segment"]:
        assert f"{entry['name']}: {entry['customers']}" in _text(part)
    file = run.version.deliverables.get(kind="movers.csv")
    every = list(csv.DictReader(io.StringIO(deliverable_read(deliverable=file, audit=False).decode())))
    assert len(every) == movers["customers"]
    top = sorted(every, key=lambda r: (-float(r["probability"]), r["customer_id"]))[:20]
    shown_top = re.findall(r"<tr><td>(\w+)</td><td>.*?</td><td>(\w+)</td><td[^>]*>(.*?)</td></tr>", part)
    assert shown_top == [(r["customer_id"], r["state"], pct(float(r["probability"]))) for r in top]
    assert f'href="{reverse("runs:deliverable_download", args=[file.pk])}"' in part


def test_a_gamma_gamma_fit_is_named_in_the_model_sentence(project, consultant, login):
    run = _run(project, consultant, spend_log(300))
    clv = run.version.metrics["clv"]
    assert clv["gamma_gamma"] and not clv.get("pooled_spend"), clv.get("pooled_spend")
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    sentence = _text(_found(r'id="lifecycle-clv-model">(.*?)</p>', page, 1))
    assert sentence == (
        "Lifetime value over 365 days, discounted at 10% a year, from a BG/NBD purchase model and a "
        f"Gamma-Gamma spend model fitted on {clv['customers']} customers."
    )
    assert "holdout" not in clv and 'id="lifecycle-holdout"' not in page  # the log ends at as_of


def test_a_part_the_engine_could_not_make_shows_its_reason(project, consultant, login):
    # 25 customers over six months are too few customer-periods for the lifecycle states, and
    # a spec without the clv group has no lifetime value
    run = _run(project, consultant, spend_log(25, seed=8), features=["rfm", "temporal"])
    stored = run.version.metrics["lifecycle"]
    assert stored["states"] is None and stored["clv"] is None
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    reason = stored["skipped"]["states"].rstrip(".")
    assert _text(_part(page, "states")) == f"Lifecycle states {reason[0].upper()}{reason[1:]}."
    assert "customer-periods are too few" in reason
    assert _text(_part(page, "movers")) == "Likely movers No lifecycle states were fitted."
    assert _text(_part(page, "clv")) == (
        "Lifetime value by segment The run's spec left out the clv feature group, so no lifetime value was computed."
    )
    assert 'id="lifecycle-clv-table"' not in page and 'id="lifecycle-diagram"' not in page
    assert 'id="lifecycle-retention"' in page  # the cohorts were made all the same


def test_a_customer_table_has_no_lifecycle_section(quick_run, consultant, login):
    page = login(consultant).get(reverse("runs:run_detail", args=[quick_run.pk])).content.decode()
    assert quick_run.version.metrics_view.lifecycle is None
    assert 'id="lifecycle' not in page


def test_under_a_privacy_budget_the_page_offers_no_movers_file(project, consultant, login):
    # movers.csv holds per-customer predictions, kept on the platform under dp_epsilon
    run = _run(project, consultant, planted_log().drop(columns="planted"), dp_epsilon=1.0)
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    part = _part(page, "movers")
    assert 'id="lifecycle-movers-download"' not in part
    assert "movers.csv of" in _text(part) and "is withheld" in _text(part)
    assert f"{run.version.metrics['lifecycle']['movers']['customers']} customers are likely" in _text(part)
