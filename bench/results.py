"""bench/RESULTS.md: each benchmark keeps its figures between its own markers."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def record(name: str, heading: str, text: str, path: Path = RESULTS) -> None:
    """Put ``text`` between the ``<!-- name:begin -->`` and ``<!-- name:end -->`` markers,
    replacing what was there, or append it under a new ``## heading`` the first time."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    content = path.read_text()
    block = f"{begin}\n{text}{end}"
    if begin in content:
        head, rest = content.split(begin, 1)
        content = head + block + rest.split(end, 1)[1]
    else:
        content = content.rstrip() + f"\n\n## {heading}\n\n" + block + "\n"
    path.write_text(content)
