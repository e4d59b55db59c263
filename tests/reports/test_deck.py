"""The executive deck and the PDF report, checked the way a reader would look at them.

No Django and no database: the documents are built straight from an engine-shaped result.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # pytest may run without a config that puts the project on the path
    sys.path.insert(0, str(ROOT))

from pptx import Presentation  # noqa: E402
from pptx.enum.chart import XL_CHART_TYPE  # noqa: E402
from pptx.util import Emu  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from reports.content import ReportContent, report_content  # noqa: E402
from reports.deck import build_deck  # noqa: E402
from reports.pdf import build_report_pdf, render_report_html  # noqa: E402
from tests.reports.helpers import pdf_text, slide_text, slide_texts  # noqa: E402

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


def _profile() -> pd.DataFrame:
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


def _rules() -> dict:
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


def _population_means(profile: pd.DataFrame) -> dict[str, float]:
    weights = profile["size"] / profile["size"].sum()
    return {f: float((profile[f"{f}_mean"] * weights).sum()) for f in FEATURES}


def _metrics(profile: pd.DataFrame) -> dict:
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
        "population_means": _population_means(profile),
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
        "rules": _rules(),
    }


@pytest.fixture(scope="module")
def content() -> ReportContent:
    profile = _profile()
    return report_content(
        profile=profile,
        metrics=_metrics(profile),
        title="Customer segmentation 2025",
        client="Acme Retail Ltd",
        version_id="v7",
        version_hash=HASH,
        created=datetime(2025, 11, 26, 9, 30, tzinfo=UTC),
        bias=BIAS,
        privacy=PRIVACY,
        lifecycle=LIFECYCLE,
    )


@pytest.fixture(scope="module")
def deck_path(content: ReportContent, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deck") / "deck.pptx"
    build_deck(content, path)
    return path


@pytest.fixture(scope="module")
def pdf_path(content: ReportContent, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    build_report_pdf(content, path)
    return path


# -- content ---------------------------------------------------------------------------------


def test_content_reads_like_a_report(content: ReportContent) -> None:
    assert [s.name for s in content.segments] == [name for name, _, _ in SEGMENTS]
    assert content.footer == FOOTER
    assert [k.label for k in content.key_numbers] == [
        "Customers",
        "Segments",
        "Quality score",
        "Largest segment",
    ]
    assert content.key_numbers[0].value == "5,000"
    assert content.key_numbers[3].note == "High spend, frequent"
    top = content.segments[0]
    assert top.traits[0].startswith("Monetary: ") and top.traits[0].endswith(")."), top.traits
    assert len(content.segments[2].short_name) <= 28 < len(LONG_NAME)
    assert content.validation.rows[content.validation.selected_row][0] == "6"
    assert "Stability" in content.validation.headers
    assert any("63 missing values" in line for line in content.method)


def test_content_survives_a_minimal_result() -> None:
    profile = _profile()[["segment", "name", "size", *[f"{f}_mean" for f in FEATURES]]]
    minimal = report_content(
        profile=profile,
        metrics={"selected": {"k": 6}},
        title="T",
        client="C",
        version_id="1",
        version_hash="",
        created=datetime(2025, 1, 2),
    )
    assert minimal.customers == sum(size for _, size, _ in SEGMENTS)
    assert minimal.features == tuple(FEATURES)
    assert minimal.validation.rows == ()
    assert math.isclose(sum(s.share for s in minimal.segments), 1.0)
    assert minimal.footer == "Version 1"


# -- deck ------------------------------------------------------------------------------------


def test_deck_has_the_expected_slides_in_order(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    assert (Emu(deck.slide_width).inches, Emu(deck.slide_height).inches) == pytest.approx(
        (SLIDE_W, SLIDE_H), abs=0.01
    )
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides]
    expected = [
        "Customer segmentation 2025",
        "Executive summary",
        "Data and method",
        "Segment overview",
        "How the segments differ",
        *[name for name, _, _ in SEGMENTS],
        "Validation: how many segments?",
        *GOVERNANCE_TITLES,
    ]
    assert titles == expected
    for slide in deck.slides:
        assert FOOTER in slide_text(slide)
    title_text = slide_text(deck.slides[0])
    assert "Acme Retail Ltd" in title_text and "26 November 2025" in title_text


def test_deck_names_every_segment_and_its_figures(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    everything = " ".join(slide_text(s) for s in deck.slides)
    for name, size, _ in SEGMENTS:
        assert name in everything
        assert f"{size:,}" in everything
    segment_slide = slide_text(deck.slides[5])
    assert "What sets them apart" in segment_slide and "Monetary" in segment_slide
    summary = slide_text(deck.slides[1])
    for key in content.key_numbers:
        assert key.value in summary


def _charts(slide) -> list:
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def test_deck_charts_are_native_with_the_profile_values(content: ReportContent, deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    (sizes,) = _charts(deck.slides[3])
    assert sizes.chart_type == XL_CHART_TYPE.BAR_CLUSTERED
    assert list(sizes.plots[0].series[0].values) == [size for _, size, _ in SEGMENTS]
    assert len(list(sizes.plots[0].categories)) == len(SEGMENTS)
    (compare,) = _charts(deck.slides[4])
    assert compare.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert list(compare.plots[0].categories) == list(content.feature_labels)
    series = list(compare.plots[0].series)
    assert len(series) == len(SEGMENTS)
    profile, means = _profile(), _population_means(_profile())
    for index, plotted in enumerate(series):
        expected = [(profile.loc[index, f"{f}_mean"] - means[f]) / abs(means[f]) * 100 for f in FEATURES]
        assert list(plotted.values) == pytest.approx(expected, abs=0.06)


def _lines(text: str, width_pt: float, size_pt: float) -> int:
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


def _frame_fits(frame, width_emu: int, height_emu: int) -> tuple[bool, str]:
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
        needed += _lines(paragraph.text, width - indent, max(sizes)) * max(sizes) * 1.2
    return needed <= height, f"{frame.text[:60]!r} needs {needed:.0f}pt of {height:.0f}pt"


def _assert_text_fits(deck_path: Path) -> None:
    deck = Presentation(str(deck_path))
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                fits, why = _frame_fits(shape.text_frame, shape.width, shape.height)
                assert fits, f"slide {number}: {why}"
                assert Emu(shape.left + shape.width).inches <= SLIDE_W + 0.01


def _assert_tables_fit(deck_path: Path) -> int:
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
                    fits, why = _frame_fits(cell.text_frame, column.width, row.height)
                    assert fits, f"slide {number}: cell {why}"
    return tables


def test_deck_text_fits_its_boxes(deck_path: Path) -> None:
    _assert_text_fits(deck_path)


def test_deck_tables_fit_the_slide(deck_path: Path) -> None:
    # method, overview, one per segment, validation, bias flags, status, features, candidates
    assert _assert_tables_fit(deck_path) == len(SEGMENTS) + 7


def test_deck_builds_fast(content: ReportContent, tmp_path: Path) -> None:
    start = time.perf_counter()
    build_deck(content, tmp_path / "timed.pptx")
    assert time.perf_counter() - start < 2.0  # about 0.2 s here; generous for a busy CI machine


def test_deck_caps_a_long_candidate_list(content: ReportContent, tmp_path: Path) -> None:
    profile = _profile()
    metrics = _metrics(profile)
    metrics["candidates"] = [
        {**c, "algorithm": algorithm}
        for algorithm in ("kmeans", "gmm", "agglomerative")
        for c in metrics["candidates"]
    ]
    metrics["k_range"] = [2, 8]
    many = report_content(
        profile=profile,
        metrics=metrics,
        title="T",
        client="C",
        version_id="v7",
        version_hash=HASH,
        created=datetime(2025, 11, 26),
    )
    assert len(many.validation.rows) == 21
    path = tmp_path / "many.pptx"
    build_deck(many, path)
    slides = list(Presentation(str(path)).slides)
    titles = [slide.shapes.title.text_frame.text for slide in slides]
    validation = slides[titles.index("Validation: how many segments?")]
    (table,) = [s.table for s in validation.shapes if s.has_table]
    assert len(table.rows) <= 13
    assert "Selected" in slide_text(validation) and "PDF report lists all" in slide_text(validation)
    # the appendix lists every candidate, over two slides
    appendix = [s for s, t in zip(slides, titles, strict=True) if t.startswith("Appendix: all candidate")]
    assert len(appendix) == 2
    listed = sum(len(s.table.rows) - 1 for slide in appendix for s in slide.shapes if s.has_table)
    assert listed == 21
    _assert_tables_fit(path)
    _assert_text_fits(path)


# -- PDF -------------------------------------------------------------------------------------


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
    assert len(deck_pages) == 5 + len(SEGMENTS) + 1 + len(GOVERNANCE_TITLES)
    assert len(report_pages) == len(PdfReader(str(pdf_path)).pages)
    for png in deck_pages + report_pages:
        low, high = Image.open(png).convert("L").getextrema()
        assert high - low > 40, f"{png.name} is blank"


# -- awkward input ---------------------------------------------------------------------------


def _awkward_result() -> tuple[pd.DataFrame, dict]:
    """Eight features with long names, a zero-average feature, odd characters, sparse metrics."""
    features = [
        "average_days_between_orders_last_12_months",
        "frequency",
        "monetary",
        "tenure",
        "discount_share",
        "web_visits",
        "net_score_change",
        "app_sessions_per_week",
    ]
    names = [
        "Big & <loyal>",
        "Quiet",
        'Deal seekers "always" on sale',
        "Nomads",
        "Weekend app browsers who rarely convert to a purchase of any kind at all",
    ]
    sizes = [900, 700, 500, 300, 100]
    rows = []
    for number, (name, size) in enumerate(zip(names, sizes, strict=True)):
        row = {"segment": number, "name": name, "size": size}
        for j, feature in enumerate(features):
            row[f"{feature}_mean"] = (
                (number - 1.2) * 3 if feature == "net_score_change" else 10.0 + number * (j + 1)
            )
        rows.append(row)
    profile = pd.DataFrame(rows)
    weights = profile["size"] / profile["size"].sum()
    means = {f: float((profile[f"{f}_mean"] * weights).sum()) for f in features}
    means["net_score_change"] = 0.0
    metrics = {
        "features": features,
        "population_means": means,
        "unexpected": [1, 2],
        "candidates": [{"algorithm": "kmeans", "k": k, "silhouette": 0.3 + k / 100} for k in range(2, 7)],
        "selected": {"algorithm": "kmeans", "k": 5},
    }
    return profile, metrics


def test_awkward_input_still_renders_and_fits(tmp_path: Path) -> None:
    profile, metrics = _awkward_result()
    awkward = report_content(
        profile=profile,
        metrics=metrics,
        title="A rather long project title for a segmentation of a client's customers",
        client="Client <&> Co",
        version_id="2025-11-26.3",
        version_hash=HASH,
        created=datetime(2025, 11, 26),
    )
    zero = awkward.segments[0].figures[6]
    assert zero.difference is None and zero.difference_text == "\u22123.6"
    assert not any("Net score" in trait for s in awkward.segments for trait in s.traits)
    assert awkward.validation.rows[awkward.validation.selected_row][1] == "0.350"
    deck, pdf = tmp_path / "awkward.pptx", tmp_path / "awkward.pdf"
    build_deck(awkward, deck)
    build_report_pdf(awkward, pdf)
    _assert_text_fits(deck)
    _assert_tables_fit(deck)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(str(pdf)).pages)
    for name in profile["name"]:
        assert name in text
    html = render_report_html(awkward)
    assert "Big &amp; &lt;loyal&gt;" in html and "<loyal>" not in html


# -- what the issue lists, slide by slide ------------------------------------------------------


def test_every_segment_slide_names_its_rule_value_and_actions(deck_path: Path) -> None:
    slides = slide_texts(deck_path)
    for number, (name, _, _) in enumerate(SEGMENTS):
        slide = slides[name]
        assert rule_text(number) in slide, slide
        assert "of customer value" in slide
        assert "Target promotions and clearance." in slide
        assert "Suggested actions and experiments" in slide


def test_the_pdf_names_every_segment_and_its_rule(pdf_path: Path) -> None:
    text = pdf_text(pdf_path)
    for number, (name, _, _) in enumerate(SEGMENTS):
        assert name in text and rule_text(number) in text
    assert "Test bundle offers that raise basket size." in text
    for title in ("Bias audit", "Privacy statement", "Version and approval status", "Appendix"):
        assert title in text


def test_validation_slide_gives_stability_reason_and_runner_up(
    content: ReportContent, deck_path: Path
) -> None:
    slide = slide_texts(deck_path)["Validation: how many segments?"]
    assert "Stability" in slide and "0.86 (stable)" in slide
    assert "highest silhouette (0.550)" in slide
    # the runner-up by silhouette is k = 5 (0.52)
    assert "Runner-up: k-means with k = 5" in slide


def test_bias_slide_names_flagged_groups_and_proxies(deck_path: Path, pdf_path: Path) -> None:
    slide = slide_texts(deck_path)["Bias audit"]
    assert "gender" in slide and "four-fifths" in slide
    assert "Lapsed one-off buyers" in slide  # the flagged segment, by name
    assert "Avg basket (MI 0.12)" in slide and "AUC 0.81" in slide
    assert "Avg basket (MI 0.12)" in pdf_text(pdf_path)


def test_privacy_and_status_slides_say_what_was_done_and_when(deck_path: Path) -> None:
    slides = slide_texts(deck_path)
    privacy = slides["Privacy statement"]
    assert "k = 7 on the quasi-identifiers age_band, postcode" in privacy
    assert "HMAC-SHA256 pseudonym" in privacy and "full_name dropped" in privacy
    assert "Not assessed" in privacy and "no sensitive attributes" in privacy
    status = slides["Version and approval status"]
    assert HASH in status and "v6" in status
    assert "Draft when this document was built" in status and "alice" in status


def _governance_free_content() -> ReportContent:
    profile = _profile()
    return report_content(
        profile=profile,
        metrics=_metrics(profile),
        title="T",
        client="C",
        version_id="v1",
        version_hash=HASH,
        created=datetime(2025, 11, 26),
    )


def test_without_protected_attributes_the_bias_slide_says_so(tmp_path: Path) -> None:
    plain = _governance_free_content()
    path = tmp_path / "plain.pptx"
    build_deck(plain, path)
    slide = slide_texts(path)["Bias audit"]
    assert "No protected attributes declared" in slide
    assert "nothing here shows the segments are free of bias" in slide
    privacy = slide_texts(path)["Privacy statement"]
    assert "k-anonymity: no quasi-identifiers were marked" in privacy
    _assert_text_fits(path)
    _assert_tables_fit(path)


def test_every_deck_chart_has_data(deck_path: Path) -> None:
    charts = [c for slide in Presentation(str(deck_path)).slides for c in _charts(slide)]
    assert charts
    for chart in charts:
        for plot in chart.plots:
            assert list(plot.categories)
            for series in plot.series:
                values = [v for v in series.values if v is not None]
                assert values and any(v != 0 for v in values), series.name


def test_every_pdf_chart_has_data(content: ReportContent) -> None:
    html = render_report_html(content)
    for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S):
        heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
        widths = [float(w) for w in re.findall(r'class="bar"[^>]*width="([\d.]+)"', svg)]
        assert heights and any(h > 0 for h in heights) and any(w > 0 for w in widths)


def test_the_report_content_never_imports_django() -> None:
    code = (
        "import sys; import reports.content, reports.sections, reports.selection_content; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0
