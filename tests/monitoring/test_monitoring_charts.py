"""The monitoring page charts what drift.json holds: each segment's share over checks, the migration
table shaded by row share, and the distributions of reference and current data; checks stored
before distributions were kept still show, with a sentence. One finished run for the module."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from monitoring.document import monitoring_html
from monitoring.models import MonitoringCheck
from tests.monitoring.helpers import current_upload

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


def _shown(share: float) -> str:
    return f"{100 * share:.1f}%"  # as the page rounds a share


def _element(page: str, pattern: str) -> ET.Element:
    """The first element matching ``pattern`` (a regex over the page) parsed as XML."""
    match = re.search(pattern, page, re.S)
    assert match, pattern
    return ET.fromstring(match.group(0))


def test_the_page_charts_shares_over_checks_migration_and_distributions(
    deployed, finished_run, consultant, login
):
    client = login(consultant)
    url = reverse("monitoring:version_monitoring", args=[deployed.pk])
    spread = float(pd.to_numeric(finished_run.dataset.read_table()["avg_basket"], errors="coerce").std())
    for shift in (0.0, spread):
        response = client.post(url, {"file": current_upload(finished_run, shift=shift)})
        assert response.status_code == 302, response.content.decode()[-1500:]
    first, latest = MonitoringCheck.objects.order_by("created_at", "pk")
    page = client.get(url).content.decode()

    # Shares over checks: one series per segment, the reference then each check, exact in titles.
    chart = _element(page, r'<svg[^>]*aria-labelledby="share-chart-title".*?</svg>')
    series = {g.get("data-segment"): g for g in chart.iter(f"{SVG}g") if g.get("class") == "series"}
    rows = {str(r["segment"]): r for r in latest.result["segment_shares"]["segments"]}
    before = {str(r["segment"]): r for r in first.result["segment_shares"]["segments"]}
    assert set(series) == set(rows)
    for segment, g in series.items():
        titles = [c.find(f"{SVG}title").text for c in g.iter(f"{SVG}circle")]
        expected = [
            rows[segment]["reference_share"],
            before.get(segment, {"current_share": 0.0})["current_share"],
            rows[segment]["current_share"],
        ]
        assert [t.split(": ")[1].split(" ")[0] for t in titles] == [_shown(v) for v in expected]
        assert titles[0].endswith("in the reference")
    legend = [t.text for t in chart.iter(f"{SVG}text")]
    assert all(f"{s} {r['name']}".strip() in legend for s, r in rows.items())
    assert "share of customers" in legend

    # Migration: the table stays, each cell shaded by its share of the row, the largest flow darkest.
    table = _element(page, r'<table class="table compact heatmap" id="migration">.*?</table>')
    cells = [(int(td.text), float(td.get("data-intensity")), td.get("title")) for td in table.iter("td")]
    matrix = pd.DataFrame(latest.result["migration"]["matrix"]).set_index("reference_segment")
    by_row = matrix.div(matrix.sum(axis=1), axis=0)
    assert [c[1] for c in cells] == pytest.approx(by_row.to_numpy().ravel(), abs=1e-4)
    assert [c[0] for c in cells] == matrix.to_numpy().ravel().tolist()
    for tr in table.iter("tr"):  # shading is by row share: each row's largest flow is its darkest cell
        row = [(int(td.text), float(td.get("data-intensity")), td.get("title")) for td in tr.iter("td")]
        if row:
            largest = max(row, key=lambda c: c[0])
            assert largest[1] == max(c[1] for c in row)
            assert largest[2].startswith(
                f"{_shown(largest[1])} of reference segment {tr.get('data-segment')}"
            )
    assert max(c[1] for c in cells) == pytest.approx(by_row.to_numpy().max(), abs=1e-4)

    # Next period's shares if customers keep moving so: today's shares times the row-share matrix.
    predicted = _element(page, r'<table class="table compact" id="predicted-shares">.*?</table>')
    shown_rows = {tr.get("data-segment"): [td.text for td in tr.iter("td")] for tr in predicted.iter("tr")}
    shown_rows.pop(None, None)
    columns = [c.removeprefix("current_") for c in matrix.columns]
    now = matrix.sum(axis=0).to_numpy(dtype=float)
    square = by_row.set_axis(columns, axis=1).set_axis([str(i) for i in by_row.index], axis=0)
    square = square.reindex(index=columns, fill_value=0.0).to_numpy(dtype=float)
    following = (now / now.sum()) @ square
    assert list(shown_rows) == columns
    for i, segment in enumerate(columns):
        assert shown_rows[segment] == [_shown(now[i] / now.sum()), _shown(following[i])]

    # Distributions: drift first; the shifted feature's bars are the shares of drift.json, which
    # are numpy's histogram of the uploaded values on the same edges.
    grid = _element(page, r'<div class="small-multiples" id="distributions">.*?</div>')
    figures = [f.get("data-feature") for f in grid.iter("figure")]
    levels = {f["feature"]: f for f in latest.result["features"]}
    assert levels["avg_basket"]["level"] == "drift" and figures[0] == "avg_basket"
    assert [levels[f]["level"] for f in figures] == sorted(
        (levels[f]["level"] for f in figures), key=["drift", "warning", "none"].index
    )
    svg = next(s for s in grid.iter(f"{SVG}svg") if s.get("data-feature") == "avg_basket")
    shown = levels["avg_basket"]["distribution"]
    for sample in ("reference", "current"):
        bars = [r.get("data-share") for r in svg.iter(f"{SVG}rect") if r.get("data-sample") == sample]
        assert bars == [_shown(v) for v in shown[sample]]
    uploaded = pd.read_csv(io.BytesIO(current_upload(finished_run, shift=spread).read()))["avg_basket"]
    counts = np.histogram(uploaded.dropna(), bins=shown["edges"])[0] / uploaded.notna().sum()
    assert shown["current"] == pytest.approx(counts, abs=1e-6)

    # The PDF shows the distributions of the features at warning or drift.
    html = monitoring_html(latest)
    moved = [f["feature"] for f in latest.result["features"] if f["level"] != "none"]
    assert re.findall(r'<svg[^>]*class="distribution" data-feature="([^"]+)"', html) == [
        f for f in figures if f in moved
    ]

    # A check stored before distributions were kept: the page says so and still charts the shares.
    for feature in latest.result["features"]:
        del feature["distribution"]
    latest.save(update_fields=["result"])
    response = client.get(url)
    old = response.content.decode()
    assert response.status_code == 200
    assert 'id="no-distributions"' in old and "stored before the platform kept feature distributions" in old
    assert 'id="share-chart"' in old and 'id="migration"' in old
    assert "stored before feature distributions were kept" in monitoring_html(latest)
