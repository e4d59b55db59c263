"""Measuring the built documents as a reader sees them: where each PDF word lands on its page
(poppler's ``pdftotext -bbox``), whether a table header word was broken, and what each slide's
footer, notes and tables say and occupy."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Emu

from reports.deck_parts import H_MARGIN
from reports.textfit import text_width

MM = 72 / 25.4
PAGE_MARGIN_X = 18 * MM  # the report's left and right page margin (report.css)
FOOTER_TOP = 6.92  # inches: the deck's footer rule
# as Python's %g writes it: "7.06e+03" (a hash's "4e5" is no number)
SCIENTIFIC = re.compile(r"\d[eE][-+]\d")

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def pdf_pages(path: Path) -> list[Page]:
    """Every page with its words and their boxes, in reading order."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, timeout=120)
    pages = []
    for number, match in enumerate(
        re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out.stdout.decode(), re.S),
        start=1,
    ):
        words = tuple(
            Word(number, unescape(text), float(a), float(b), float(c), float(d))
            for a, b, c, d, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>',
                match.group(3),
            )
        )
        pages.append(Page(number, float(match.group(1)), float(match.group(2)), words))
    return pages


def words_outside_the_page(pages: list[Page], tolerance: float = 1.0) -> list[Word]:
    """Words that reach past the page's side margins or off the page."""
    return [
        w
        for page in pages
        for w in page.words
        if w.x0 < PAGE_MARGIN_X - tolerance
        or w.x1 > page.width - PAGE_MARGIN_X + tolerance
        or w.y0 < 0
        or w.y1 > page.height
    ]


def html_header_words(html: str) -> set[str]:
    cells = re.findall(r"<th\b[^>]*>(.*?)</th>", html, re.S)
    return {unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells} - {""}


def html_words(html: str) -> set[str]:
    """Every whitespace-separated word the report's HTML body shows."""
    body = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return set(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def broken_words(pages: list[Page], headers: set[str], known: set[str]) -> list[str]:
    """Pieces of a header word that a page shows on their own ("Averag" + "e", "Si" + "lh" + ...):
    a PDF word that starts or ends a header word without being one, nor any word the document has."""
    whole = {w for text in headers for w in text.split()}
    found = []
    for page in pages:
        for word in page.words:
            if word.text in whole or word.text in known:
                continue
            pieces = [
                h for h in whole if h != word.text and (h.startswith(word.text) or h.endswith(word.text))
            ]
            if pieces:
                found.append(f"page {word.page}: {word.text!r} is a piece of {pieces[0]!r}")
    return found


# -- the deck ----------------------------------------------------------------------------------


def footers(path: Path) -> list[str]:
    """Each slide's footer text: the text boxes at its bottom edge."""
    result = []
    for slide in Presentation(str(path)).slides:
        bottom = [s for s in slide.shapes if s.has_text_frame and Emu(s.top).inches >= 6.95]
        result.append(" ".join(s.text_frame.text for s in bottom))
    return result


def notes(path: Path) -> list[str]:
    return [
        slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        for slide in Presentation(str(path)).slides
    ]


def table_problems(path: Path) -> list[str]:
    """Tables that reach the footer, and header words wider than their column (so they break)."""
    problems = []
    for number, slide in enumerate(Presentation(str(path)).slides, start=1):
        for shape in (s for s in slide.shapes if s.has_table):
            table = shape.table
            bottom = Emu(shape.top + sum(row.height for row in table.rows)).inches
            if bottom > FOOTER_TOP:
                problems.append(f"slide {number}: table ends at {bottom:.2f}in, into the footer")
            for column, cell in zip(table.columns, table.rows[0].cells, strict=True):
                room = (Emu(column.width).inches - 2 * H_MARGIN) * 72
                for run in (r for p in cell.text_frame.paragraphs for r in p.runs):
                    for word in run.text.split():
                        if text_width(word, run.font.size.pt, bold=True) > room:
                            problems.append(f"slide {number}: header word {word!r} is wider than its column")
    return problems
