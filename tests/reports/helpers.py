"""What the report tests share: an engine-shaped result to build the documents from, reading
the built documents back as a reader sees them, and checks that a slide's text and tables fit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.util import Emu
from pypdf import PdfReader

# -- an engine-shaped result -----------------------------------------------------------------

LONG_NAME = (
    "Occasional bargain hunters who mostly buy during seasonal promotions and respond to discount e-mails"
)
FEATURES = ["recency_days", "frequency", "monetary", "tenure_months", "avg_basket", "returns_rate"]
SEGMENTS = [
    ("High spend, frequent", 1420, [12.0, 9.8, 712.0, 36.0, 72.6, 0.04]),
    ("Lapsed one-off buyers", 1180, [95.0, 1.3, 80.0, 20.0, 61.5, 0.09]),
    (LONG_NAME, 960, [38.0, 4.9, 300.0, 25.0, 61.2, 0.05]),
    ("New customers", 700, [20.0, 2.0, 110.0, 3.0, 55.0, 0.05]),
    ("Loyal regulars", 460, [30.0, 6.0, 420.0, 60.0, 70.0, 0.02]),
    ("Serial returners", 280, [25.0, 5.5, 350.0, 18.0, 63.6, 0.31]),
]
HASH = "3f9a2c7d81b04e55aa0193bc7e11d0c2"
FOOTER = f"Version v7 · {HASH[:12]}"
SLIDE_W, SLIDE_H = 13.333, 7.5
FOOTER_TOP = 6.9  # inches: body content must end above the footer rule


ACTIONS = "Target promotions and clearance | Test bundle offers that raise basket size"


def segment_profile() -> pd.DataFrame:
    total = sum(size for _, size, _ in SEGMENTS)
    value = sum(size * means[2] for _, size, means in SEGMENTS)
    rows = []
    for number, (name, size, means) in enumerate(SEGMENTS):
        row = {"segment": number, "name": name, "size": size, "share": size / total}
        row.update({f"{f}_mean": m for f, m in zip(FEATURES, means, strict=True)})
        row["value_share"] = size * means[2] / value
        row["actions"] = ACTIONS
        rows.append(row)
    return pd.DataFrame(rows)


def surrogate_rules() -> dict:
    """Two leaves per segment on the tree's features, the larger listed second."""
    rules = []
    for number in range(len(SEGMENTS)):
        for support, threshold in ((0.02, 5.0), (0.1 + number / 100, 20.0 + number)):
            rules.append(
                {
                    "segment": number,
                    "segment_name": SEGMENTS[number][0],
                    "conditions": [
                        {"feature": "recency_days", "op": ">", "threshold": threshold},
                        {"feature": "recency_days", "op": "<=", "threshold": threshold + 30.25},
                        {"feature": "monetary", "op": "<=", "threshold": 100.0 * (number + 1)},
                    ],
                    "support": support,
                    "precision": 0.9,
                }
            )
    return {"fidelity": 0.93, "rules": rules, "sql_case": "CASE WHEN ... END"}


def rule_text(number: int) -> str:
    """How the documents must state segment ``number``'s largest rule."""
    return (
        f"IF Recency days > {20 + number} and \u2264 {50.25 + number:.4g} and "
        f"Monetary \u2264 {100 * (number + 1)}"
    )


BIAS = {
    "protected_columns": ["gender"],
    "rows": [
        {
            "attribute": "gender",
            "segment": 1,
            "group": "F",
            "group_size": 900,
            "segment_share": 0.1,
            "demographic_parity_ratio": 0.5,
            "four_fifths_flag": True,
        },
        {
            "attribute": "gender",
            "segment": 1,
            "group": "M",
            "group_size": 900,
            "segment_share": 0.2,
            "demographic_parity_ratio": 0.5,
            "four_fifths_flag": False,
        },
    ],
    "findings": {
        "findings": ["gender: segment 1 shows the largest gap between groups."],
        "mitigation_options": ["Remove or coarsen the strongest proxy features and re-run."],
        "proxies": {
            "gender": {"auc": 0.81, "proxies": [{"feature": "avg_basket", "mutual_information": 0.12}]}
        },
    },
}
PRIVACY = {
    "reviewed": True,
    "risk": {"k_anonymity": 7, "rows_in_classes_below": {"5": 0}},
    "quasi_identifiers": ["age_band", "postcode"],
    "decisions": {"email": {"action": "pseudonymise"}, "full_name": {"action": "drop"}},
    "identity": {"column": "email", "pseudonymised": True},
    "target_k": 5,
    "dp_budget": 1.0,
    "dp_releases": [],
}
LIFECYCLE = {
    "status": "draft",
    "history": [],
    "parent": "v6",
    "parent_hash": "ab" * 32,
    "created_at": datetime(2025, 11, 26, 9, 30, tzinfo=UTC),
    "created_by": "alice",
    "code_version": "0.4.0",
    "built_at": datetime(2025, 11, 26, 9, 31, tzinfo=UTC),
}
GOVERNANCE_TITLES = [
    "Bias audit",
    "Privacy statement",
    "Version and approval status",
    "Appendix: features and data quality",
    "Appendix: all candidate solutions",
]


def population_means_of(profile: pd.DataFrame) -> dict[str, float]:
    weights = profile["size"] / profile["size"].sum()
    return {f: float((profile[f"{f}_mean"] * weights).sum()) for f in FEATURES}


def engine_metrics(profile: pd.DataFrame) -> dict:
    scores = {2: 0.41, 3: 0.47, 4: 0.50, 5: 0.52, 6: 0.55, 7: 0.49, 8: 0.44}
    candidates = [
        {
            "algorithm": "kmeans",
            "k": k,
            "silhouette": s,
            "davies_bouldin": 1.3 - s,
            "calinski_harabasz": 800.0 + 40 * k,
            "inertia": 9000.0 / k,
            "stability": 0.8 + s / 10,
        }
        for k, s in scores.items()
    ]
    return {
        "rows": 5000,
        "customers": int(profile["size"].sum()),
        "features": FEATURES,
        "missing": {
            "recency_days": 0,
            "frequency": 12,
            "monetary": 3,
            "tenure_months": 0,
            "avg_basket": 41,
            "returns_rate": 7,
        },
        "missing_total": 63,
        "population_means": population_means_of(profile),
        "k_range": [2, 8],
        "candidates": candidates,
        "selected": {
            "algorithm": "kmeans",
            "k": 6,
            "silhouette": 0.55,
            "reason": "highest silhouette (0.550) among k = 2..8",
        },
        "silhouette_sample_size": 3000,
        "bias": {"note": "later versions add keys"},
        "privacy": {"k_anonymity": 10},
        "rules": surrogate_rules(),
    }


# -- reading the documents back ---------------------------------------------------------------


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


# -- does it fit ------------------------------------------------------------------------------


def wrapped_lines(text: str, width_pt: float, size_pt: float) -> int:
    """Greedy word wrap at an average glyph width of half an em (Arial-like body text)."""
    per_line = max(int(width_pt / (0.5 * size_pt)), 1)
    lines, used = 1, 0
    for word in text.split():
        needed = used + 1 + len(word) if used else len(word)
        if used and needed > per_line:
            lines, needed = lines + 1, len(word)
        while needed > per_line:  # a word longer than a line breaks inside it
            lines, needed = lines + 1, needed - per_line
        used = needed
    return lines


def frame_fits(frame, width_emu: int, height_emu: int) -> tuple[bool, str]:
    inset = lambda value, default: Emu(value if value is not None else default).pt  # noqa: E731
    width = Emu(width_emu).pt - inset(frame.margin_left, 91440) - inset(frame.margin_right, 91440)
    height = Emu(height_emu).pt - inset(frame.margin_top, 45720) - inset(frame.margin_bottom, 45720)
    needed = 0.0
    for paragraph in frame.paragraphs:
        if not paragraph.text.strip():
            continue
        sizes = [run.font.size.pt for run in paragraph.runs if run.font.size is not None]
        assert sizes, f"no explicit font size on {paragraph.text!r}"
        indent = Emu(int(paragraph._p.pPr.get("marL", 0))).pt if paragraph._p.pPr is not None else 0
        needed += wrapped_lines(paragraph.text, width - indent, max(sizes)) * max(sizes) * 1.2
    return needed <= height, f"{frame.text[:60]!r} needs {needed:.0f}pt of {height:.0f}pt"


def assert_text_fits(deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                fits, why = frame_fits(shape.text_frame, shape.width, shape.height)
                assert fits, f"slide {number}: {why}"
                assert Emu(shape.left + shape.width).inches <= SLIDE_W + 0.01


def assert_tables_fit(deck_path: Path) -> int:
    """Every table ends above the footer and inside the margins; returns how many there are."""
    deck = Presentation(str(deck_path))
    tables = 0
    for number, slide in enumerate(deck.slides, start=1):
        for shape in (s for s in slide.shapes if s.has_table):
            tables += 1
            table = shape.table
            bottom = Emu(shape.top + sum(row.height for row in table.rows)).inches
            right = Emu(shape.left + sum(col.width for col in table.columns)).inches
            assert bottom <= FOOTER_TOP, f"slide {number}: table ends at {bottom:.2f}in"
            assert right <= SLIDE_W - 0.5, f"slide {number}: table reaches {right:.2f}in"
            for row in table.rows:
                for column, cell in zip(table.columns, row.cells, strict=True):
                    fits, why = frame_fits(cell.text_frame, column.width, row.height)
                    assert fits, f"slide {number}: cell {why}"
    return tables
