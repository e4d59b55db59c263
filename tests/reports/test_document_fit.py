"""Documents an executive would accept, checked by measurement: every PDF word inside its page,
no table header word broken, no deck table in the footer, notes on every slide, plain numbers,
and the edition (draft, or approved by whom) on every page and slide."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from pptx import Presentation

from reports.content import ReportContent, report_content
from reports.deck import build_deck
from reports.pdf import build_report_pdf, render_report_html
from reports.plain import DRAFT_EDITION
from tests.reports.helpers import BIAS, HASH, LIFECYCLE, PRIVACY, engine_metrics, segment_profile, slide_text
from tests.reports.measure import (
    SCIENTIFIC,
    broken_words,
    footers,
    html_header_words,
    html_words,
    needs_poppler,
    notes,
    pdf_pages,
    table_problems,
    words_outside_the_page,
)

WIDE_FEATURES = [
    "average_order_value_last_twelve_months",
    "days_since_last_purchase",
    "orders_per_quarter",
    "share_of_orders_with_discount",
    "returns_rate",
    "customer_service_contacts",
    "tenure_months",
    "newsletter_clicks",
    *(f"channel_{n}_visits" for n in range(1, 13)),
]
APPROVED = "Approved by rita on 2 December 2026 - version " + HASH[:12]


def _wide_result() -> tuple[pd.DataFrame, dict]:
    """Twelve segments, long feature names and 30 candidates from three algorithms."""
    rows = []
    for number in range(12):
        row = {"segment": number, "name": f"Segment group number {number}", "size": 500 + 37 * number}
        row.update({f"{f}_mean": 10.0 + number * (j + 1) * 1.5 for j, f in enumerate(WIDE_FEATURES)})
        rows.append(row)
    profile = pd.DataFrame(rows)
    candidates = [
        {
            "algorithm": algorithm,
            "k": k,
            "silhouette": 0.2 + k / 100,
            "davies_bouldin": 1.2 - k / 50,
            "calinski_harabasz": 7060.3 + 1000 * k,
            "stability": 0.7 + k / 100,
        }
        for algorithm in ("kmeans", "gmm", "agglomerative")
        for k in range(3, 13)
    ]
    reason = (
        "best combined score (0.81) with silhouette 0.32, Calinski\u2013Harabasz 7.06e+03, stability 0.82"
    )
    metrics = {
        "features": WIDE_FEATURES,
        "customers": int(profile["size"].sum()),
        "candidates": candidates,
        "k_range": [3, 12],
        "selected": {"algorithm": "kmeans", "k": 12, "silhouette": 0.32, "reason": reason},
    }
    return profile, metrics


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportContent, Path, Path]:
    profile, metrics = _wide_result()
    content = report_content(
        profile=profile,
        metrics=metrics,
        title="Customer segmentation with many segments",
        client="Acme Retail Ltd",
        version_id="v9",
        version_hash=HASH,
        created=datetime(2026, 12, 1, tzinfo=UTC),
    )
    folder = tmp_path_factory.mktemp("wide")
    build_deck(content, folder / "deck.pptx")
    build_report_pdf(content, folder / "report.pdf")
    return content, folder / "deck.pptx", folder / "report.pdf"


@pytest.fixture(scope="module")
def approved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    profile = segment_profile()
    content = report_content(
        profile=profile,
        metrics=engine_metrics(profile),
        title="Customer segmentation 2025",
        client="Acme Retail Ltd",
        version_id="v7",
        version_hash=HASH,
        created=datetime(2025, 11, 26, 9, 30, tzinfo=UTC),
        bias=BIAS,
        privacy=PRIVACY,
        lifecycle={**LIFECYCLE, "status": "approved"},
        approval={"approver": "rita", "at": datetime(2026, 12, 2, 10, 0, tzinfo=UTC)},
    )
    folder = tmp_path_factory.mktemp("approved")
    build_deck(content, folder / "deck.pptx")
    build_report_pdf(content, folder / "report.pdf")
    return folder / "deck.pptx", folder / "report.pdf"


@needs_poppler
def test_every_word_of_a_wide_report_lies_inside_its_page(wide) -> None:  # type: ignore[no-untyped-def]
    _, _, pdf = wide
    pages = pdf_pages(pdf)
    outside = words_outside_the_page(pages)
    assert not outside, [f"page {w.page}: {w.text!r} at x {w.x0:.0f}-{w.x1:.0f}" for w in outside[:10]]


@needs_poppler
def test_no_table_header_word_is_broken_in_the_report(wide) -> None:  # type: ignore[no-untyped-def]
    content, _, pdf = wide
    html = render_report_html(content)
    headers = html_header_words(html)
    assert "Calinski\u2013Harabasz" in headers and "Segment 11" in headers
    assert broken_words(pdf_pages(pdf), headers, html_words(html)) == []


def test_the_wide_means_table_is_split_into_column_groups_repeating_the_feature(wide) -> None:  # type: ignore[no-untyped-def]
    content, _, _ = wide
    html = render_report_html(content).split("Means per segment", 1)[1].split("</section>", 1)[0]
    tables = re.findall(r"<table class=\"data\">.*?</table>", html, re.S)
    assert len(tables) == 2
    assert all(len(re.findall(r"<th[ >]", t)) <= 8 and ">Feature<" in t for t in tables)
    assert "word-break: break-all" not in render_report_html(content)


def test_deck_tables_end_above_the_footer_and_headers_fit_their_columns(wide) -> None:  # type: ignore[no-untyped-def]
    content, deck, _ = wide
    assert table_problems(deck) == []
    titles = [s.shapes.title.text_frame.text for s in Presentation(str(deck)).slides]
    appendix = [t for t in titles if t.startswith("Appendix: all candidate solutions")]
    assert len(appendix) > 1, "30 candidates run over several appendix slides"
    shown = sum(
        len(shape.table.rows) - 1
        for slide in Presentation(str(deck)).slides
        if slide.shapes.title.text_frame.text.startswith("Appendix: all candidate solutions")
        for shape in slide.shapes
        if shape.has_table
    )
    assert shown == len(content.validation.rows) == 30


def test_every_slide_has_speaker_notes_in_plain_words(wide) -> None:  # type: ignore[no-untyped-def]
    _, deck, _ = wide
    texts = notes(deck)
    assert texts and all(len(text.split()) >= 12 for text in texts), texts
    assert all("This slide" in t or "This deck" in t or "Each bar" in t or "Appendix" in t for t in texts)


@needs_poppler
def test_numbers_read_plainly_and_the_method_has_a_glossary(wide) -> None:  # type: ignore[no-untyped-def]
    _, deck, pdf = wide
    deck_text = " ".join(slide_text(s) for s in Presentation(str(deck)).slides)
    pdf_words = " ".join(page.text for page in pdf_pages(pdf))
    for text in (deck_text, pdf_words):
        assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
        assert "7,060" in text
        assert "Words used in this" in text and "Quality score (silhouette)" in text


@needs_poppler
def test_a_draft_says_so_on_every_slide_and_page(wide) -> None:  # type: ignore[no-untyped-def]
    _, deck, pdf = wide
    assert all(DRAFT_EDITION in footer for footer in footers(deck))
    pages = pdf_pages(pdf)
    assert all(DRAFT_EDITION in page.text for page in pages), [
        p.number for p in pages if DRAFT_EDITION not in p.text
    ]


@needs_poppler
def test_the_approved_edition_names_the_approver_on_every_slide_and_page(approved) -> None:  # type: ignore[no-untyped-def]
    deck, pdf = approved
    assert all(APPROVED in footer for footer in footers(deck))
    assert all(
        APPROVED in page.text and "Draft" not in page.text.split("Version and approval")[0][:0]
        for page in pdf_pages(pdf)
    )
    assert not any(DRAFT_EDITION in page.text for page in pdf_pages(pdf))
    assert words_outside_the_page(pdf_pages(pdf)) == []
    assert table_problems(deck) == []


def test_a_slide_that_cannot_hold_every_row_says_how_many_more_and_where(wide) -> None:  # type: ignore[no-untyped-def]
    content, deck, _ = wide
    slides = Presentation(str(deck)).slides
    method = next(s for s in slides if s.shapes.title.text_frame.text == "Data and method")
    assert "more features in the appendix" in slide_text(method)
    appendix = " ".join(
        slide_text(s) for s in slides if s.shapes.title.text_frame.text.startswith("Appendix: features")
    )
    assert all(label in appendix for label in content.feature_labels)
