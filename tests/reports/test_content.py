"""What the report says, derived once for the deck and the PDF: the content of a full result, of
a minimal one and of awkward input, without Django."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
from pypdf import PdfReader

from reports.content import ReportContent, report_content
from reports.deck import build_deck
from reports.pdf import build_report_pdf, render_report_html
from tests.reports.helpers import (
    FEATURES,
    FOOTER,
    HASH,
    LONG_NAME,
    SEGMENTS,
    assert_tables_fit,
    assert_text_fits,
    segment_profile,
)

ROOT = Path(__file__).resolve().parents[2]


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
    profile = segment_profile()[["segment", "name", "size", *[f"{f}_mean" for f in FEATURES]]]
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
    assert_text_fits(deck)
    assert_tables_fit(deck)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(str(pdf)).pages)
    for name in profile["name"]:
        assert name in text
    html = render_report_html(awkward)
    assert "Big &amp; &lt;loyal&gt;" in html and "<loyal>" not in html


def test_the_report_content_never_imports_django() -> None:
    code = (
        "import sys; import reports.content, reports.sections, reports.selection_content; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60).returncode == 0


def test_with_no_structure_both_documents_lead_with_no_segmentation_recommended():
    from datetime import UTC, datetime

    from reports.content import NO_ACTIONS, report_content
    from tests.reports.helpers import HASH, engine_metrics, segment_profile

    profile = segment_profile()
    metrics = {
        **engine_metrics(profile),
        "structure": {
            "verdict": "none",
            "evidence": {"rows_tested": 400, "references": 10, "gap": {"k": 1}, "bic": {"k": 1}},
        },
    }
    profile["actions"] = ""

    content = report_content(
        profile=profile,
        metrics=metrics,
        title="Customer segmentation",
        client="Acme",
        version_id="v1",
        version_hash=HASH,
        created=datetime(2026, 1, 5, tzinfo=UTC),
    )

    assert content.summary[0].startswith(
        "No segmentation recommended: the data shows no more structure than random data of the same shape."
    )
    assert "the gap statistic finds one group (no clusters)" in content.summary[0]
    assert all(segment.actions == (NO_ACTIONS,) for segment in content.segments)
