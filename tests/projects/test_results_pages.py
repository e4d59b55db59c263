"""The results page and the side-by-side comparison: segment cards and charts served locally."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from django.urls import reverse

from tests.projects.helpers import rerun

pytestmark = pytest.mark.django_db


def chart_data(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no {element_id} block"
    return json.loads(match.group(1))


def test_the_results_page_shows_cards_and_the_data_of_every_chart(finished_run, login):
    html = (
        login(finished_run.created_by)
        .get(reverse("runs:run_detail", args=[finished_run.pk]))
        .content.decode()
    )
    version = finished_run.version
    for name in version.segment_names:
        assert name in html
    assert "vs avg" in html  # key figures against the average
    data = chart_data(html, "charts-data")
    assert data["names"] == version.segment_names
    assert sum(data["sizes"]) == version.metrics["customers"]
    assert len(data["map"]["x"]) == len(data["map"]["segment"]) == 300
    assert set(data["map"]["segment"]) <= set(range(len(version.segment_names)))
    assert {(c["algorithm"], c["k"]) for c in data["candidates"] if c["algorithm"] == "kmeans"} == {
        ("kmeans", 2),
        ("kmeans", 3),
        ("kmeans", 4),
    }
    assert data["selected_algorithm"] == version.metrics["selected"]["algorithm"]
    assert len(data["heatmap"]["z"]) == len(version.segment_names)
    assert data["value"]["feature"] == "avg basket"
    assert abs(sum(data["value"]["shares"]) - 1) < 1e-9
    for slot in ("map", "sizes", "heatmap", "silhouette"):
        assert f'data-chart="{slot}"' in html
    # the delivered segmentation's stability on full-size resamples, with its interval, per segment
    selected = version.metrics_view.selected
    low, high = selected.stability_interval
    stability = re.search(r'<p id="stability">(.*?)</p>', html, re.S)
    assert stability, "no stability line"
    line = re.sub(r"<[^>]+>", "", stability.group(1))
    assert (
        f"Stability {selected.stability:.2f} (95% interval {low:.2f}–{high:.2f}, "
        f"{selected.stability_resamples} full-size resamples of {selected.stability_rows:,} customers)"
    ) in line
    assert stability.group(1).count('class="segment-stability"') == len(version.segment_names)


def test_plotly_is_served_by_the_platform_not_a_cdn(finished_run, login, client):
    html = (
        login(finished_run.created_by)
        .get(reverse("runs:run_detail", args=[finished_run.pk]))
        .content.decode()
    )
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert "/static/vendor/plotly/plotly.min.js" in scripts
    assert all(src.startswith("/static/") for src in scripts)
    asset = client.get("/static/vendor/plotly/plotly.min.js")
    assert asset.status_code == 200
    assert b"plotly.js" in b"".join(asset.streaming_content)[:2000]


def test_the_pca_map_matches_scikit_learns_projection(finished_run):
    import io

    import numpy as np
    from sklearn.decomposition import PCA

    from runs.charts import version_charts
    from segmentation import load_model, read_csv_bytes

    version = finished_run.version
    model = load_model(version.model)
    with finished_run.dataset.file.open("rb") as handle:
        frame = read_csv_bytes(io.BytesIO(handle.read()).getvalue(), name="c")
    expected = PCA(n_components=2).fit_transform(model.transform(frame))
    got = np.column_stack([version_charts(version)["map"]["x"], version_charts(version)["map"]["y"]])
    # Principal axes are defined up to sign.
    for j in range(2):
        assert np.allclose(np.abs(got[:, j]), np.abs(expected[:, j]), atol=1e-3)


def test_two_runs_are_compared_side_by_side(finished_run, login):
    other = rerun(finished_run, finished_run.created_by, k_min=2, k_max=2)
    client = login(finished_run.created_by)
    detail = client.get(reverse("runs:project", args=[finished_run.project.pk])).content.decode()
    assert "Compare side by side" in detail
    response = client.get(reverse("runs:run_compare") + f"?a={finished_run.pk}&b={other.pk}")
    html = response.content.decode()
    assert response.status_code == 200
    assert chart_data(html, "charts-a")["label"] == "v1" and chart_data(html, "charts-b")["label"] == "v2"
    assert f"Run #{finished_run.pk}" in html and f"Run #{other.pk}" in html
    assert re.search(r'<strong id="agreement">(1\.00|0\.\d\d)</strong>', html)


def test_it_refuses_to_compare_with_another_projects_run(finished_run, outsider, login):
    response = login(outsider).get(reverse("runs:run_compare") + f"?a={finished_run.pk}&b={finished_run.pk}")
    assert response.status_code == 404


def test_the_heatmap_falls_back_to_relative_differences_without_centroids():
    from types import SimpleNamespace

    from runs.charts import _heatmap
    from segmentation.result import RunMetrics

    version = SimpleNamespace(
        pk=None,
        label="v1",
        model_sha256="",
        model={"format": "some-other-model"},
        metrics_view=RunMetrics.from_dict({"population_means": {"spend": 100.0, "visits": 10.0}}),
        profile=[{"spend_mean": 150.0, "visits_mean": 5.0}, {"spend_mean": 50.0, "visits_mean": 15.0}],
    )
    heatmap = _heatmap(version, ["spend", "visits"])
    assert heatmap == {"z": [[0.5, -0.5], [-0.5, 0.5]], "features": ["spend", "visits"], "unit": "relative"}


def test_an_agglomerative_run_carries_its_dendrogram_to_the_results_page(finished_run, login):
    # given a run restricted to agglomerative clustering
    run = rerun(finished_run, finished_run.created_by, algorithms=["agglomerative"], k_min=3, k_max=3)
    version = run.version
    # then its metrics keep the top of the merge tree, and the results page hands it to the chart
    stored = version.metrics["selected"]["dendrogram"]
    assert stored["linkage"] == "ward" and len(stored["merges"]) == 30 and stored["rows"] == 300
    html = login(run.created_by).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert chart_data(html, "charts-data")["dendrogram"] == stored
    assert 'data-chart="dendrogram"' in html
    # and a k-means winner has none
    assert "dendrogram" not in finished_run.version.metrics["selected"]
    first = login(run.created_by).get(reverse("runs:run_detail", args=[finished_run.pk])).content
    assert b'data-chart="dendrogram"' not in first


def test_a_density_winner_states_its_rule_and_draws_unassigned_customers_too(finished_run, login):
    run = rerun(finished_run, finished_run.created_by, algorithms=["hdbscan"], k_min=2, k_max=8)
    assert run.status == "succeeded", run.error
    html = login(run.created_by).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert 'id="assignment"' in html and "exemplars per segment" in html
    assert f"{run.version.metrics['selected']['assignment_agreement']:.1%}" in html
    data = chart_data(html, "charts-data")
    segments = set(data["map"]["segment"])
    assert segments <= {-1, *range(len(run.version.segment_names))}


def test_the_map_is_the_one_the_engine_stored_whatever_the_distance(finished_run, login):
    from segmentation.result import RunMetrics

    # Under the Mahalanobis distance the clustering space is whitened; the engine still draws
    # the standardised features, and the page shows that map rather than one of its own.
    run = rerun(finished_run, finished_run.created_by, distance="mahalanobis", k_min=2, k_max=3)
    html = login(run.created_by).get(reverse("runs:run_detail", args=[run.pk])).content
    stored = RunMetrics.from_dict(run.version.metrics).maps
    shown = chart_data(html.decode(), "charts-data")["map"]
    assert (shown["x"], shown["y"]) == (list(stored.pca.x), list(stored.pca.y))
    assert shown["segment"] == list(stored.segments) and shown["sample"] == stored.sample_size
    assert shown["explained"] == [round(v, 3) for v in stored.pca.explained_variance_ratio]


def test_a_version_stored_before_the_engine_drew_maps_says_it_has_none(finished_run, login, monkeypatch):
    from django.core.cache import cache

    from runs import services as run_services
    from segmentation import segment

    def engine_before_maps(frame, spec, **options):  # type: ignore[no-untyped-def]
        result = segment(frame, spec, **options)
        del result.metrics["maps"]  # what every engine before the exploration maps stored
        return result

    cache.clear()
    monkeypatch.setattr(run_services, "segment", engine_before_maps)
    run = rerun(finished_run, finished_run.created_by, k_min=2, k_max=3)
    assert "maps" not in run.version.metrics
    html = login(run.created_by).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert chart_data(html, "charts-data")["map"] is None
    assert 'data-chart="map"' not in html
    assert f"No 2-D map is stored for {run.version.label}" in html


def test_labels_too_many_for_excel_are_skipped_with_a_note_and_the_csv_kept(finished_run, login, monkeypatch):
    import json

    from reports import tables

    # given a sheet limit the 300-customer labels pass (the header and 299 rows fit, 300 do not)
    monkeypatch.setattr(tables, "EXCEL_MAX_ROWS", 300)
    run = rerun(finished_run, finished_run.created_by)
    # then the run still succeeds, with labels.csv complete and no labels.xlsx
    assert run.status == "succeeded"
    files = {d.kind: d for d in run.version.deliverables.all()}
    assert "labels.xlsx" not in files and "profile.xlsx" in files
    with files["labels.csv"].file.open("rb") as handle:
        assert len(handle.read().decode().splitlines()) == 301
    with files["manifest.json"].file.open("rb") as handle:
        manifest = json.loads(handle.read())
    assert "labels.xlsx" not in manifest["files"] and "300 rows" in manifest["skipped"]["labels.xlsx"]
    # and the results page says why the Excel copy is missing
    html = login(run.created_by).get(reverse("runs:run_detail", args=[run.pk])).content.decode()
    assert 'id="skipped-deliverables"' in html and "labels.xlsx: not written: 300 rows" in html
    # while a run within the limit has no such note
    html = login(run.created_by).get(reverse("runs:run_detail", args=[finished_run.pk])).content.decode()
    assert "skipped-deliverables" not in html


def test_the_maps_customers_carry_their_own_figures_for_hovers_and_the_scatter(finished_run, login):
    html = (
        login(finished_run.created_by)
        .get(reverse("runs:run_detail", args=[finished_run.pk]))
        .content.decode()
    )
    data = chart_data(html, "charts-data")
    points = data["points"]
    assert (
        points["ids"] == list(finished_run.version.metrics_view.maps.customer_ids)
        and len(points["ids"]) == 300
    )
    table = finished_run.dataset.read_table().set_index("customer_id")
    features = finished_run.version.metrics_view.features
    assert set(points["features"]) == {f.replace("_", " ") for f in features}
    for feature in features:
        expected = pd.to_numeric(table.loc[points["ids"], feature], errors="coerce").astype(float).round(4)
        shown = pd.Series(points["features"][feature.replace("_", " ")], dtype=float)
        pd.testing.assert_series_equal(shown, expected.reset_index(drop=True), check_names=False)
    # The key figures are the features that most set a segment apart on the heatmap.
    z = data["heatmap"]["z"]
    spread = {f: max(abs(row[i]) for row in z) for i, f in enumerate(data["heatmap"]["features"])}
    assert points["key"] == sorted(spread, key=lambda f: -spread[f])[:4]
    assert 'id="scatter-x-charts-data"' in html and 'data-chart="scatter"' in html


def test_the_version_stores_the_resolved_spec_and_the_page_says_what_was_logged(finished_run, login):
    version = finished_run.version
    assert "transforms" not in finished_run.spec  # the run keeps what the user asked
    logged = sorted(c for c, t in version.spec["transforms"].items() if t == "log1p")
    assert logged and version.spec["default_transform"] == "zscore"
    assert version.spec["reduction"] == "none"
    defaults = version.metrics_view.defaults
    assert defaults is not None and sorted(defaults.logged) == logged
    html = (
        login(finished_run.created_by)
        .get(reverse("runs:run_detail", args=[finished_run.pk]))
        .content.decode()
    )
    assert 'id="field-defaults"' in html
    assert "log-transformed before z-scoring" in html and "heavy right tail" in html
    for column in logged:
        assert column in html
