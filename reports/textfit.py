"""Estimate how much room text needs, so slides can pick font sizes that never overflow.

python-pptx cannot measure text, so widths come from average advance widths of a Helvetica
class font (Arial, Liberation Sans), in ems. The table errs wide: a box sized by it has slack
in PowerPoint and LibreOffice alike.
"""

from __future__ import annotations

from collections.abc import Sequence

LINE_SPACING = 1.2
_NARROW = set("il.,;:'|!()[]{}/\\ ") | {"\u00b7"}
_WIDE = set("MWmw@%") | {"\u2014", "\u2026"}
BOLD_FACTOR = 1.08


def char_em(char: str) -> float:
    if char in _NARROW:
        return 0.3
    if char in _WIDE:
        return 0.85
    if char.isupper():
        return 0.7
    if char.isdigit():
        return 0.56
    return 0.53


def text_width(text: str, size_pt: float, *, bold: bool = False) -> float:
    """Estimated width in points of ``text`` set on one line."""
    width = sum(char_em(c) for c in text) * size_pt
    return width * BOLD_FACTOR if bold else width


def wrapped_lines(text: str, width_pt: float, size_pt: float, *, bold: bool = False) -> int:
    """Lines ``text`` takes when greedily word-wrapped into ``width_pt``."""
    if width_pt <= 0:
        return 10**6
    lines, current = 1, 0.0
    space = text_width(" ", size_pt, bold=bold)
    for word in text.split():
        word_width = text_width(word, size_pt, bold=bold)
        if current and current + space + word_width > width_pt:
            lines, current = lines + 1, 0.0
        if not current:
            # A word wider than the line breaks across as many lines as it needs.
            extra = int(word_width // width_pt)
            lines += extra
            current = word_width - extra * width_pt
        else:
            current += space + word_width
    return lines


def text_height(
    paragraphs: Sequence[str],
    width_pt: float,
    size_pt: float,
    *,
    bold: bool = False,
    space_after: float = 0.0,
) -> float:
    """Height in points of paragraphs wrapped into ``width_pt``; space_after is in ems."""
    lines = sum(wrapped_lines(p, width_pt, size_pt, bold=bold) for p in paragraphs)
    gaps = max(len(paragraphs) - 1, 0) * space_after * size_pt
    return lines * size_pt * LINE_SPACING + gaps


def fit_size(
    paragraphs: Sequence[str],
    width_pt: float,
    height_pt: float,
    *,
    max_pt: int,
    min_pt: int,
    bold: bool = False,
    space_after: float = 0.0,
) -> int | None:
    """Largest whole point size from max_pt down to min_pt at which the text fits, or None."""
    for size in range(max_pt, min_pt - 1, -1):
        if text_height(paragraphs, width_pt, size, bold=bold, space_after=space_after) <= height_pt:
            return size
    return None
