"""The results page's out-of-time part: a log that runs past 'as_of', run in process, read back
through the Django test client, every figure the one the engine stored."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from projects.models import SegmentationRun
from reports.formatting import format_number
from runs import services as run_services
from tests.segmentation.later_log import AS_OF, planted_log

pytestmark = pytest.mark.django_db

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "k_min": 3,
    "k_max": 3,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
}


def _log_run(project, consultant, **spec):  # type: ignore[no-untyped-def]
    log = planted_log().drop(columns="planted")
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


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_the_outcome_section_says_what_the_segments_chosen_at_as_of_foretold(project, consultant, login):
    run = _log_run(project, consultant, as_of=AS_OF)
    page = login(consultant).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    part = re.search(r'<div id="out-of-time">(.*?)</div>\s*</section>', page, re.S)
    assert part, "no out-of-time part in the outcome section"
    shown = _text(part.group(1))
    check = run.version.metrics["out_of_time"]
    names = {int(row["segment"]): row["name"] for row in run.version.profile}

    window = _text(re.search(r'id="out-of-time-window">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]
    assert "Segments were chosen on data before 1 July 2025" in window
    assert "from 1 July 2025 to 30 September 2025 (92 days)" in window
    assert (
        f"{check['customers_returned']:,} ({100 * check['customers_returned'] / check['customers']:.1f}%)"
        in window
    )

    bought, spend = check["outcomes"]
    best = max(bought["segments"], key=lambda s: s["rate"])
    line = (
        f"Segments chosen on data before 1 July 2025: '{names[best['segment']]}' customers came back "
        f"{100 * best['rate']:.1f}% [{100 * best['ci_low']:.1f}% – {100 * best['ci_high']:.1f}%] of the "
        f"time after it, against {100 * best['rest_rate']:.1f}% for the rest; p < 0.001 after adjustment."
    )
    assert best["p_adjusted"] < 0.001 and line in shown
    assert "customers spent" in shown and "on average after it" in shown

    for outcome in (bought, spend):
        table = re.search(
            rf'<table[^>]*id="out-of-time-{outcome["outcome"].replace("_", "-")}".*?</table>', page, re.S
        )
        assert table, outcome["outcome"]
        rows = dict(re.findall(r'<tr data-segment="(\d+)">(.*?)</tr>', table.group(0), re.S))
        for entry in outcome["segments"]:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[str(entry["segment"])])
            rate = outcome["kind"] == "rate"
            value = f"{100 * entry['rate']:.1f}%" if rate else format_number(entry["mean"])
            assert cells[0] == str(entry["n"]) and cells[1] == value
            p = entry["p_adjusted"]
            assert cells[3] == ("&lt; 0.001" if p < 0.001 else f"{p:.3f}")
    assert f"χ² = {bought['statistic']:.1f}" in shown and f"H = {spend['statistic']:.1f}" in shown
    # the data-quality list says the later events were held out, not thrown away
    assert "held out for the" in page and 'href="#out-of-time"' in page


def test_a_customer_table_says_no_check_was_possible_and_why(quick_run, consultant, login):
    # the log that ends before as_of is the engine's test; the page shows whatever reason it gave
    page = login(consultant).get(reverse("runs:run_detail", args=[quick_run.pk])).content.decode()
    reason = _text(re.search(r'id="out-of-time-none">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]
    assert (
        reason == f"No out-of-time check was possible: {quick_run.version.metrics['out_of_time']['reason']}."
    )
    assert "the upload is a customer table" in reason
    assert 'id="out-of-time-window"' not in page
