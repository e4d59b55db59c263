"""The executive deck, checked the way a reader would look at it: slides, charts, what each
slide says, and that everything fits.

No Django and no database: the deck is built straight from an engine-shaped result.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Emu

from reports.content import ReportContent, report_content
from reports.deck import build_deck
from tests.reports.helpers import (
    FEATURES,
    FOOTER,
    GOVERNANCE_TITLES,
    HASH,
    SEGMENTS,
    SLIDE_H,
    SLIDE_W,
    assert_tables_fit,
    assert_text_fits,
    engine_metrics,
    pdf_text,
    population_means_of,
    rule_text,
    segment_profile,
    slide_text,
    slide_texts,
)


def test_deck_has_the_expected_slides_in_order(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    assert (Emu(deck.slide_width).inches, Emu(deck.slide_height).inches) == pytest.approx(
        (SLIDE_W, SLIDE_H), abs=0.01
    )
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides]
    expected = [
        "Customer segmentation 2025",
        "Executive summary",
        "Data and method",
        "Words used in this deck (1 of 2)",
        "Words used in this deck (2 of 2)",
        "Segment overview",
        "How the segments differ",
        *[name for name, _, _ in SEGMENTS],
        "Validation: how many segments?",
        "Outcome validation",  # no outcome declared, no out-of-time check: the page says so
        *GOVERNANCE_TITLES,
    ]
    assert titles == expected
    for slide in deck.slides:
        assert FOOTER in slide_text(slide)
    title_text = slide_text(deck.slides[0])
    assert "Acme Retail Ltd" in title_text and "26 November 2025" in title_text


def test_deck_names_every_segment_and_its_figures(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    everything = " ".join(slide_text(s) for s in deck.slides)
    for name, size, _ in SEGMENTS:
        assert name in everything
        assert f"{size:,}" in everything
    segment_slide = slide_text(deck.slides[7])
    assert "What sets them apart" in segment_slide and "Monetary" in segment_slide
    summary = slide_text(deck.slides[1])
    for key in content.key_numbers:
        assert key.value in summary


def _charts(slide) -> list:
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def test_deck_charts_are_native_with_the_profile_values(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    (sizes,) = _charts(deck.slides[5])
    assert sizes.chart_type == XL_CHART_TYPE.BAR_CLUSTERED
    assert list(sizes.plots[0].series[0].values) == [size for _, size, _ in SEGMENTS]
    assert len(list(sizes.plots[0].categories)) == len(SEGMENTS)
    (compare,) = _charts(deck.slides[6])
    assert compare.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert list(compare.plots[0].categories) == list(content.feature_labels)
    series = list(compare.plots[0].series)
    assert len(series) == len(SEGMENTS)
    profile, means = segment_profile(), population_means_of(segment_profile())
    for index, plotted in enumerate(series):
        expected = [(profile.loc[index, f"{f}_mean"] - means[f]) / abs(means[f]) * 100 for f in FEATURES]
        assert list(plotted.values) == pytest.approx(expected, abs=0.06)


def test_deck_text_fits_its_boxes(deck_path: Path) -> None:
    assert_text_fits(deck_path)


def test_deck_tables_fit_the_slide(deck_path: Path) -> None:
    # method, glossary (two slides), overview, one per segment, validation, bias flags, status,
    # features, candidates
    assert assert_tables_fit(deck_path) == len(SEGMENTS) + 9


def test_deck_caps_a_long_candidate_list(content: ReportContent, tmp_path: Path) -> None:
    profile = segment_profile()
    metrics = engine_metrics(profile)
    metrics["candidates"] = [
        {**c, "algorithm": algorithm}
        for algorithm in ("kmeans", "gmm", "agglomerative")
        for c in metrics["candidates"]
    ]
    metrics["k_range"] = [2, 8]
    many = report_content(
        profile=profile,
        metrics=metrics,
        title="T",
        client="C",
        version_id="v7",
        version_hash=HASH,
        created=datetime(2025, 11, 26),
    )
    assert len(many.validation.rows) == 21
    path = tmp_path / "many.pptx"
    build_deck(many, path)
    slides = list(Presentation(str(path)).slides)
    titles = [slide.shapes.title.text_frame.text for slide in slides]
    validation = slides[titles.index("Validation: how many segments?")]
    (table,) = [s.table for s in validation.shapes if s.has_table]
    assert len(table.rows) <= 13
    assert "Selected" in slide_text(validation) and "PDF report lists all" in slide_text(validation)
    # the appendix lists every candidate, over two slides
    appendix = [s for s, t in zip(slides, titles, strict=True) if t.startswith("Appendix: all candidate")]
    assert len(appendix) == 2
    listed = sum(len(s.table.rows) - 1 for slide in appendix for s in slide.shapes if s.has_table)
    assert listed == 21
    assert_tables_fit(path)
    assert_text_fits(path)


# -- what the issue lists, slide by slide ------------------------------------------------------


def test_every_segment_slide_names_its_rule_value_and_actions(deck_path: Path) -> None:
    slides = slide_texts(deck_path)
    for number, (name, _, _) in enumerate(SEGMENTS):
        slide = slides[name]
        assert rule_text(number) in slide, slide
        assert "of customer value" in slide
        assert "Target promotions and clearance." in slide
        assert "Suggested actions and experiments" in slide


def test_validation_slide_gives_stability_reason_and_runner_up(
    content: ReportContent, deck_path: Path
) -> None:
    slide = slide_texts(deck_path)["Validation: how many segments?"]
    assert "Stability" in slide and "0.86 (stable)" in slide
    assert "highest silhouette (0.550)" in slide
    # the runner-up by silhouette is k = 5 (0.52)
    assert "Runner-up: k-means with k = 5" in slide


def test_bias_slide_names_flagged_groups_and_proxies(deck_path: Path, pdf_path: Path) -> None:
    slide = slide_texts(deck_path)["Bias audit"]
    assert "gender" in slide and "four-fifths" in slide
    assert "Lapsed one-off buyers" in slide  # the flagged segment, by name
    assert "Avg basket (MI 0.12)" in slide and "AUC 0.81" in slide
    assert "Avg basket (MI 0.12)" in pdf_text(pdf_path)


def test_privacy_and_status_slides_say_what_was_done_and_when(deck_path: Path) -> None:
    slides = slide_texts(deck_path)
    privacy = slides["Privacy statement"]
    assert "k = 7 on the quasi-identifiers age_band, postcode" in privacy
    assert "HMAC-SHA256 pseudonym" in privacy and "full_name dropped" in privacy
    assert "Not assessed" in privacy and "no sensitive attributes" in privacy
    status = slides["Version and approval status"]
    assert HASH in status and "v6" in status
    assert "Draft when this document was built" in status and "alice" in status


def _governance_free_content() -> ReportContent:
    profile = segment_profile()
    return report_content(
        profile=profile,
        metrics=engine_metrics(profile),
        title="T",
        client="C",
        version_id="v1",
        version_hash=HASH,
        created=datetime(2025, 11, 26),
    )


def test_without_protected_attributes_the_bias_slide_says_so(tmp_path: Path) -> None:
    plain = _governance_free_content()
    path = tmp_path / "plain.pptx"
    build_deck(plain, path)
    slide = slide_texts(path)["Bias audit"]
    assert "No protected attributes declared" in slide
    assert "nothing here shows the segments are free of bias" in slide
    assert "the run form's protected columns" in slide and "protected_columns" not in slide
    privacy = slide_texts(path)["Privacy statement"]
    assert "k-anonymity: no quasi-identifiers were marked" in privacy
    assert_text_fits(path)
    assert_tables_fit(path)


def test_every_deck_chart_has_data(deck_path: Path) -> None:
    charts = [c for slide in Presentation(str(deck_path)).slides for c in _charts(slide)]
    assert charts
    for chart in charts:
        for plot in chart.plots:
            assert list(plot.categories)
            for series in plot.series:
                values = [v for v in series.values if v is not None]
                assert values and any(v != 0 for v in values), series.name
