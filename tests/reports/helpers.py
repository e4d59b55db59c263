"""Reading built documents back as a reader sees them."""

from __future__ import annotations

from pptx import Presentation
from pypdf import PdfReader


def slide_texts(path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each slide's text (text frames and table cells), by its title."""
    texts = {}
    for slide in Presentation(str(path)).slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
        texts[slide.shapes.title.text_frame.text] = " ".join(" ".join(parts).split())
    return texts


def pdf_text(source) -> str:  # type: ignore[no-untyped-def]
    """The whole PDF's text, whitespace collapsed."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(source).pages)
