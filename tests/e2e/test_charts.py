"""The results charts in Chromium: labels that do not collide, hovers with figures, any scatter."""

from __future__ import annotations

import pytest

from tests.projects.conftest import finished_run  # noqa: F401  (shared fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _box(page, selector):  # type: ignore[no-untyped-def]
    return page.locator(selector).first.bounding_box()


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_charts_label_everything_hover_with_figures_and_plot_any_two_features(open_session, finished_run):  # noqa: F811
    version = finished_run.version
    me = open_session("charts")
    me.login(finished_run.created_by.username)
    page = me.page
    page.goto(f"/runs/{finished_run.pk}/")
    for kind in ("map", "scatter", "heatmap", "sizes", "silhouette"):
        page.wait_for_selector(f".chart[data-chart={kind}].drawn")

    # Every segment row and every feature column of the heatmap is labelled.
    heatmap = ".chart[data-chart=heatmap]"
    rows = page.locator(f"{heatmap} .yaxislayer-above .ytick text").all_text_contents()
    columns = page.locator(f"{heatmap} .xaxislayer-above .xtick text").all_text_contents()
    assert sorted(r.split(": ", 1)[1] for r in rows) == sorted(version.segment_names)
    assert columns == [f.replace("_", " ") for f in version.metrics_view.features]

    # No legend sits on an axis title.
    for kind in ("map", "scatter", "silhouette"):
        legend = _box(page, f".chart[data-chart={kind}] .legend")
        for title in (".g-xtitle", ".g-ytitle"):
            axis = _box(page, f".chart[data-chart={kind}] {title}")
            if legend and axis:
                assert not _overlap(legend, axis), f"the {kind} legend covers its axis title"

    # A hover on the map names the customer and its key figures, not only the segment.
    point = page.locator(".chart[data-chart=map] .scatterlayer .point").first
    point.hover(force=True)
    hover = page.locator(".chart[data-chart=map] .hoverlayer .hovertext").first
    hover.wait_for()
    text = hover.text_content() or ""
    assert "Customer " in text and ":" in text

    # Choosing two features redraws the scatter on those axes.
    features = [f.replace("_", " ") for f in version.metrics_view.features]
    page.select_option("#scatter-x-charts-data", features[-1])
    page.select_option("#scatter-y-charts-data", features[0])
    scatter = ".chart[data-chart=scatter]"
    page.wait_for_function(
        "([sel, want]) => { const t = document.querySelector(sel + ' .g-xtitle'); return t && t.textContent === want; }",
        arg=[scatter, features[-1]],
    )
    assert page.locator(f"{scatter} .g-ytitle").text_content() == features[0]
    me.shot("01-charts")
    assert not me.errors, me.errors
