"""The PDF report, checked the way a reader would look at it: pages, charts and what it names.

No Django and no database: the report is built straight from an engine-shaped result.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports.content import ReportContent
from reports.pdf import render_report_html
from tests.reports.helpers import (
    FEATURES,
    FOOTER,
    GOVERNANCE_TITLES,
    LONG_NAME,
    SEGMENTS,
    pdf_text,
    rule_text,
)


def test_report_html_has_vector_charts_with_one_bar_per_value(content: ReportContent) -> None:
    html = render_report_html(content)
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    assert len(svgs) == 2 + len(SEGMENTS)  # sizes, comparison, one per segment profile
    sizes, comparison, *per_segment = svgs
    assert sizes.count('class="bar"') == len(SEGMENTS)
    assert comparison.count('class="bar"') == len(SEGMENTS) * len(FEATURES)
    assert all(chart.count('class="bar"') == len(FEATURES) for chart in per_segment)
    assert LONG_NAME in html


def _fill_colours(reader: PdfReader) -> set[tuple[float, float, float]]:
    found = set()
    for page in reader.pages:
        data = page.get_contents().get_data().decode("latin-1")
        for r, g, b in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) rg", data):
            found.add((round(float(r), 2), round(float(g), 2), round(float(b), 2)))
    return found


def test_pdf_reads_as_a_paginated_report(content: ReportContent, pdf_path: Path) -> None:
    reader = PdfReader(str(pdf_path))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    text = " ".join(pages)
    assert len(reader.pages) > 1
    assert "Contents" in pages[1]
    for name, _, _ in SEGMENTS:
        assert name in text
    for number in range(2, len(pages) + 1):
        assert f"Page {number} of {len(pages)}" in pages[number - 1]
    assert all(FOOTER in page for page in pages)
    for key in content.key_numbers:
        assert key.value in text
    assert "Davies\u2013Bouldin" in text and "Selected" in text


def test_pdf_draws_the_charts(content: ReportContent, pdf_path: Path) -> None:
    from reports.svg import PALETTE

    colours = _fill_colours(PdfReader(str(pdf_path)))
    for hex_colour in PALETTE[: len(SEGMENTS)]:
        rgb = tuple(round(int(hex_colour[i : i + 2], 16) / 255, 2) for i in (1, 3, 5))
        assert rgb in colours, f"no fill in segment colour {hex_colour}"


def test_the_pdf_names_every_segment_and_its_rule(pdf_path: Path) -> None:
    text = pdf_text(pdf_path)
    for number, (name, _, _) in enumerate(SEGMENTS):
        assert name in text and rule_text(number) in text
    assert "Test bundle offers that raise basket size." in text
    for title in ("Bias audit", "Privacy statement", "Version and approval status", "Appendix"):
        assert title in text


def test_every_pdf_chart_has_data(content: ReportContent) -> None:
    html = render_report_html(content)
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
        widths = [float(w) for w in re.findall(r'class="bar"[^>]*width="([\d.]+)"', svg)]
        assert heights and any(h > 0 for h in heights) and any(w > 0 for w in widths)


# -- rendered pages --------------------------------------------------------------------------


def _render_pngs(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(out / pdf.stem)], check=True, timeout=120)
    return sorted(out.glob(f"{pdf.stem}*.png"))


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("libreoffice") and shutil.which("pdftoppm")), reason="needs libreoffice and pdftoppm"
)
def test_rendered_pages_are_not_blank(deck_path: Path, pdf_path: Path, tmp_path: Path) -> None:
    from PIL import Image

    subprocess.run(
        [
            "libreoffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    deck_pdf = tmp_path / "deck.pdf"
    deck_pages = _render_pngs(deck_pdf, tmp_path)
    report_pages = _render_pngs(pdf_path, tmp_path)
    # 7: with the glossary's 2; then validation and the outcome page
    assert len(deck_pages) == 7 + len(SEGMENTS) + 2 + len(GOVERNANCE_TITLES)
    assert len(report_pages) == len(PdfReader(str(pdf_path)).pages)
    for png in deck_pages + report_pages:
        low, high = Image.open(png).convert("L").getextrema()
        assert high - low > 40, f"{png.name} is blank"
