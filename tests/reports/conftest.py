"""The documents every report test reads: one content, deck and PDF per test module, built
from the engine-shaped result of :mod:`tests.reports.helpers`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # pytest may run without a config that puts the project on the path
    sys.path.insert(0, str(ROOT))

from reports.content import ReportContent, report_content  # noqa: E402
from reports.deck import build_deck  # noqa: E402
from reports.pdf import build_report_pdf  # noqa: E402
from tests.api.conftest import api  # noqa: E402, F401  (shared fixtures: the approved pack's tests)
from tests.projects.conftest import finished_run, login, quick_run  # noqa: E402, F401
from tests.reports.helpers import BIAS, HASH, LIFECYCLE, PRIVACY, engine_metrics, segment_profile  # noqa: E402


@pytest.fixture(scope="module")
def content() -> ReportContent:
    profile = segment_profile()
    return report_content(
        profile=profile,
        metrics=engine_metrics(profile),
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
