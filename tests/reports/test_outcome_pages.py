"""The outcome page of the deck and the PDF: per outcome column and out-of-time outcome, the
segments' figures, the overall test and a reading, each equal to the stored metrics; without
any outcome the page says so and where to declare one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pptx import Presentation

from reports.content import SHORT_NAME_CHARS, ReportContent, report_content
from reports.deck import build_deck
from reports.formatting import format_count, format_number, shorten
from reports.pdf import build_report_pdf
from segmentation.explain.outcomes import adjust_for_multiple_tests, outcome_association, outcome_associations
from tests.reports.helpers import (
    HASH,
    SEGMENTS,
    assert_tables_fit,
    assert_text_fits,
    engine_metrics,
    pdf_text,
    segment_profile,
    slide_text,
)

TITLES = ("Outcome: Churn", "After 1 July 2025: bought again", "After 1 July 2025: spend")


def _metrics() -> dict:
    """The stored metrics of a run whose segments differ on churn and on what they did after
    1 July 2025: every outcome figure computed by the engine on generated arrays."""
    profile = segment_profile()
    metrics = engine_metrics(profile)
    rng = np.random.default_rng(7)
    labels = np.repeat(np.arange(len(SEGMENTS)), [size for _, size, _ in SEGMENTS])
    churn = rng.uniform(size=len(labels)) < np.array([0.05, 0.4, 0.2, 0.3, 0.1, 0.25])[labels]
    came_back = rng.uniform(size=len(labels)) < np.array([0.9, 0.15, 0.5, 0.4, 0.8, 0.45])[labels]
    spend = np.where(came_back, rng.lognormal(np.log([400, 40, 150, 90, 300, 120])[labels], 0.8), 0.0)
    declared = outcome_associations(
        labels, pd.DataFrame({"Churn": np.where(churn, "Yes", "No")}), adjust=False
    )
    later = [
        {**outcome_association(labels, came_back.astype(float), name="bought_again"), "mapping": None},
        {**outcome_association(labels, np.round(spend, 2), name="spend_after_as_of"), "mapping": None},
    ]
    adjust_for_multiple_tests([*declared, *later])
    metrics["outcomes"] = declared
    metrics["out_of_time"] = {
        "possible": True,
        "reason": None,
        "as_of": "2025-07-01",
        "window_start": "2025-07-01",
        "window_end": "2025-09-30",
        "window_days": 92,
        "customers": len(labels),
        "customers_returned": int(came_back.sum()),
        "events_in_window": 9000,
        "new_customers": 12,
        "outcomes": later,
    }
    return metrics


@pytest.fixture(scope="module")
def stored() -> dict:
    return _metrics()


@pytest.fixture(scope="module")
def documents(stored: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportContent, Path, Path]:
    content = report_content(
        profile=segment_profile(),
        metrics=stored,
        title="Customer segmentation 2025",
        client="Acme Retail Ltd",
        version_id="v7",
        version_hash=HASH,
        created=datetime(2025, 11, 26, 9, 30, tzinfo=UTC),
    )
    folder = tmp_path_factory.mktemp("outcomes")
    build_deck(content, folder / "deck.pptx")
    build_report_pdf(content, folder / "report.pdf")
    return content, folder / "deck.pptx", folder / "report.pdf"


def _expected_rows(outcome: dict) -> list[tuple[str, ...]]:
    """Each segment's row as a reader must see it, formatted from the stored figures (the
    segment by its short name, as the summary names it)."""
    rate = outcome["kind"] == "rate"
    show = (lambda v: f"{100 * v:.1f}%") if rate else format_number
    rows = []
    for entry in outcome["segments"]:
        p = entry["p_adjusted"]
        rows.append(
            (
                shorten(SEGMENTS[entry["segment"]][0], SHORT_NAME_CHARS),
                format_count(entry["n"]),
                show(entry["rate" if rate else "mean"]),
                f"{show(entry['ci_low'])} – {show(entry['ci_high'])}",
                "< 0.001" if p < 0.001 else f"{p:.3f}",
            )
        )
    return rows


def _slide_tables(deck: Path, title: str) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for slide in Presentation(str(deck)).slides:
        if slide.shapes.title.text_frame.text.startswith(title):
            for shape in (s for s in slide.shapes if s.has_table):
                rows += [tuple(c.text for c in row.cells) for row in list(shape.table.rows)[1:]]
    return rows


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def test_the_deck_has_one_outcome_page_per_outcome_after_validation(documents, stored):
    _, deck, _ = documents
    titles = [s.shapes.title.text_frame.text for s in Presentation(str(deck)).slides]
    start, end = titles.index("Validation: how many segments?") + 1, titles.index("Bias audit")
    # a long table goes on over a second slide, titled "(continued)"
    assert list(dict.fromkeys(t.split(" (continued)")[0] for t in titles[start:end])) == list(TITLES)
    outcomes = [*stored["outcomes"], *stored["out_of_time"]["outcomes"]]
    for title, outcome in zip(TITLES, outcomes, strict=True):
        assert _slide_tables(deck, title) == _expected_rows(outcome), title


def test_each_page_states_the_overall_test_its_adjusted_p_effect_size_and_a_reading(documents, stored):
    _, deck, _ = documents
    slides = {s.shapes.title.text_frame.text: slide_text(s) for s in Presentation(str(deck)).slides}
    outcomes = [*stored["outcomes"], *stored["out_of_time"]["outcomes"]]
    for title, outcome in zip(TITLES, outcomes, strict=True):
        text = slides[title]
        symbol = "χ²" if outcome["test"] == "chi_square" else "H"
        assert f"{symbol} = {outcome['statistic']:.1f}, {_p(outcome['p_value'])}" in text
        assert f"{_p(outcome['p_adjusted'])} after adjusting for the run's tests" in text
        assert f"= {format_number(outcome['effect_size'])}." in text
    assert "Read as No = 0, Yes = 1." in slides["Outcome: Churn"]
    assert "Churn is highest in Lapsed one-off buyers" in slides["Outcome: Churn"]
    bought = stored["out_of_time"]["outcomes"][0]
    best = max(bought["segments"], key=lambda s: s["rate"])
    line = (
        f"Segments chosen on data before 1 July 2025: 'High spend, frequent' customers came back "
        f"{100 * best['rate']:.1f}% [{100 * best['ci_low']:.1f}% – {100 * best['ci_high']:.1f}%] of the "
        f"time after it, against {100 * best['rest_rate']:.1f}% for the rest; p < 0.001 after adjustment."
    )
    assert best["segment"] == 0 and line in slides[TITLES[1]]
    assert "from 1 July 2025 to 30 September 2025 (92 days)" in slides[TITLES[1]]


def test_the_outcome_slides_fit_their_boxes(documents):
    _, deck, _ = documents
    assert_text_fits(deck)
    assert assert_tables_fit(deck) >= len(TITLES)


def test_the_pdf_has_an_outcome_chapter_with_the_same_figures(documents, stored):
    content, _, pdf = documents
    text = pdf_text(str(pdf))
    chapter = text[text.rindex("Outcome validation") :]
    for title in TITLES:
        assert title in chapter
    outcomes = [*stored["outcomes"], *stored["out_of_time"]["outcomes"]]
    for outcome in outcomes:
        for row in _expected_rows(outcome):
            assert " ".join(row[1:4]) in chapter, row
        assert f"= {outcome['statistic']:.1f}, {_p(outcome['p_value'])}" in chapter
    # the one-line reading of the later behaviour is among the summary's findings, too
    came_back = next(line for line in content.summary if "came back" in line)
    assert came_back in " ".join(content.outcome_pages[1].text.split())


def test_without_outcomes_the_page_says_so_and_where_to_declare_them(content, deck_path, pdf_path):
    # the shared documents: no outcome column, metrics from before the out-of-time check
    slides = {s.shapes.title.text_frame.text: slide_text(s) for s in Presentation(str(deck_path)).slides}
    page = slides["Outcome validation"]
    assert "No outcome column was declared for this run" in page
    assert "the run form's outcome columns" in page
    assert (
        "No out-of-time check was possible: this version was made before the out-of-time check existed."
        in page
    )
    chapter = pdf_text(str(pdf_path))
    assert "Outcome validation" in chapter and "the run form's outcome columns" in chapter


def test_a_customer_table_says_why_there_is_no_out_of_time_check():
    profile = segment_profile()
    metrics = engine_metrics(profile)
    metrics["out_of_time"] = {
        "possible": False,
        "reason": "the upload is a customer table, not a transaction log",
    }
    content = report_content(
        profile=profile,
        metrics=metrics,
        title="t",
        client="c",
        version_id="v1",
        version_hash=HASH,
        created=datetime(2025, 1, 1, tzinfo=UTC),
    )
    (page,) = content.outcome_pages
    assert "No out-of-time check was possible: the upload is a customer table" in page.text
