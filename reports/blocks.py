"""HTML building blocks of the PDF documents (the report, the monitoring report): prose, lists,
tables that split when too wide for a portrait page, figures; and rendering with WeasyPrint.

The documents share ``document_templates/report.css``, so a block looks the same in each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template

# Not under templates/: these are string.Template files, never rendered by Django.
TEMPLATES = Path(__file__).resolve().parent / "document_templates"


def write_pdf(html: str, path: Path) -> None:
    """Render a document built from these blocks to ``path``."""
    from weasyprint import HTML  # heavy import, needed only where PDFs are rendered

    HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))


def document(*, title: str, author: str, description: str, cover: str, toc: str, body: str) -> str:
    """A whole document in the report's page template and style."""
    template = Template((TEMPLATES / "report.html").read_text(encoding="utf-8"))
    return template.substitute(
        title=escape(title),
        author=escape(author),
        description=escape(description),
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        cover=cover,
        toc=toc,
        body=body,
    )


# A name joined by an en dash (Calinski\u2013Harabasz, Davies\u2013Bouldin) is one term: a line may
# break before or after it, never at its dash.
_DASHED_TERM = re.compile(r"\S+\u2013\S+")


def prose(text: str) -> str:
    return _DASHED_TERM.sub(lambda term: f'<span class="term">{term.group()}</span>', escape(text))


def bullets(lines: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{prose(line)}</li>" for line in lines) + "</ul>"


# Beyond this many columns a table no longer fits a portrait A4 page at 9.5 pt: it is split
# into column groups, each repeating the first (label) column.
MAX_COLUMNS = 8


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    row_classes: Sequence[str] = (),
    strong: Sequence[tuple[int, int]] = (),
    nowrap: Sequence[int] = (),
    keep: int = 1,
) -> str:
    """An HTML table; a wide one becomes several, each with the first ``keep`` columns repeated."""
    if len(headers) <= MAX_COLUMNS:
        return _one_table(headers, rows, numeric, row_classes, strong, nowrap)
    # Balanced groups: 12 segment columns read better as 6 + 6 than as 6 + 6 + 0 or 7 + 5.
    groups = -(-(len(headers) - keep) // (MAX_COLUMNS - keep))
    step = -(-(len(headers) - keep) // groups)
    parts = []
    for start in range(keep, len(headers), step):
        columns = [*range(keep), *range(start, min(start + step, len(headers)))]
        parts.append(
            _one_table(
                [headers[j] for j in columns],
                [[row[j] for j in columns] for row in rows],
                [i for i, j in enumerate(columns) if j in numeric],
                row_classes,
                [(r, columns.index(j)) for r, j in strong if j in columns],
                [i for i, j in enumerate(columns) if j in nowrap],
            )
        )
    return "".join(parts)


def _header_words(text: str) -> str:
    # Each word kept whole (a header never breaks inside a word); lines break between words.
    return " ".join(f'<span class="word">{escape(word)}</span>' for word in text.split())


def _one_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int],
    row_classes: Sequence[str],
    strong: Sequence[tuple[int, int]],
    nowrap: Sequence[int],
) -> str:
    def cell(tag: str, i: int, j: int, text: str) -> str:
        flags = ("num", j in numeric), ("strong", (i, j) in strong), ("nowrap", j in nowrap)
        classes = " ".join(name for name, on in flags if on)
        attr = f' class="{classes}"' if classes else ""
        inner = _header_words(text) if tag == "th" else escape(text)
        return f"<{tag}{attr}>{inner}</{tag}>"

    head = "<tr>" + "".join(cell("th", -1, j, h) for j, h in enumerate(headers)) + "</tr>"
    lines = []
    for i, row in enumerate(rows):
        css = row_classes[i] if i < len(row_classes) and row_classes[i] else ""
        attr = f' class="{css}"' if css else ""
        lines.append(f"<tr{attr}>" + "".join(cell("td", i, j, text) for j, text in enumerate(row)) + "</tr>")
    return f'<table class="data"><thead>{head}</thead><tbody>{"".join(lines)}</tbody></table>'


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def chapter(number: int, key: str, title: str, inner: str) -> str:
    """A numbered chapter of a short document (the monitoring and experiment reports)."""
    return (
        f'<section class="chapter" id="chapter-{key}"><h2 id="{key}">{number}&ensp;{escape(title)}</h2>'
        f"{inner}</section>"
    )


def contents(chapters: Sequence[tuple[str, str]]) -> str:
    """The table of contents of :func:`chapter`-numbered ``(key, title)`` chapters, from 1."""
    return "\n".join(
        f'<li><a href="#{key}">{n}&ensp;{escape(title)}</a></li>'
        for n, (key, title) in enumerate(chapters, 1)
    )


def cover_band(*, title: str, client: str, project: str, date: str = "", meta: Sequence[str] = ()) -> str:
    """A short document's cover: the title band (client, project, an optional date) and lines below."""
    dated = f'<p class="date">{escape(date)}</p>' if date else ""
    lines = "".join(f"<p>{escape(line)}</p>" for line in meta)
    return (
        f'<div class="band"><h1>{escape(title)}</h1><div class="rule"></div>'
        f'<p class="client">{escape(client)} · {escape(project)}</p>{dated}</div>'
        f'<div class="meta">{lines}</div>'
    )
