"""Reading built documents back as a reader sees them."""

from __future__ import annotations

from pptx import Presentation
from pypdf import PdfReader


def slide_text(slide) -> str:  # type: ignore[no-untyped-def]
    """One slide's text (text frames and table cells), whitespace collapsed."""
    parts = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return " ".join(" ".join(parts).split())


def slide_texts(path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each slide's text, by its title."""
    return {s.shapes.title.text_frame.text: slide_text(s) for s in Presentation(str(path)).slides}


def pdf_text(source) -> str:  # type: ignore[no-untyped-def]
    """The whole PDF's text, whitespace collapsed."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(source).pages)
