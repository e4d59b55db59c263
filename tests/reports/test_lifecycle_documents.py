"""The Lifecycle slides of the deck and chapter of the PDF: a real transaction log run in
process, its delivered deck.pptx and report.pdf read back, every figure the one the run stored."""

from __future__ import annotations

import io
import re

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.slide import Slide
from pptx.util import Emu

from projects.models import SegmentationRun
from reports.deck_lifecycle import COHORT_TITLE, DIAGRAM_TITLE, MAX_COHORTS, MAX_OFFSETS
from reports.formatting import format_count, format_number, format_share
from reports.lifecycle_figures import MIN_ARROW
from reports.lifecycle_sections import CLV_TITLE, MOVERS_TITLE, STATES_TITLE, lifecycle_content
from reports.pdf import render_report_html
from reports.services import deliverable_read, version_content
from runs import services as run_services
from segmentation.result import RunMetrics
from tests.reports.helpers import FOOTER_TOP, SLIDE_W, frame_fits, pdf_text, slide_text
from tests.segmentation.later_log import AS_OF, planted_log

pytestmark = pytest.mark.django_db

SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "as_of": AS_OF,
    "k_min": 3,
    "k_max": 3,
    "algorithms": ["kmeans"],
    "stability_resamples": 0,
    "clv_discount_rate": 0.08,
}
LIFECYCLE_TITLES = (CLV_TITLE, COHORT_TITLE, STATES_TITLE, DIAGRAM_TITLE, MOVERS_TITLE)


def _log_run(project, consultant):
    log = planted_log().drop(columns="planted")
    dataset = run_services.dataset_upload(
        project=project,
        name="log.csv",
        content=log.to_csv(index=False).encode(),
        id_column=None,
        user=consultant,
    )
    run = run_services.run_start(project=project, dataset=dataset, spec=SPEC, user=consultant, enqueue=False)
    run = run_services.run_execute(run_id=run.pk)
    assert run.status == SegmentationRun.Status.SUCCEEDED, run.error
    return run


def _file(version, kind: str) -> bytes:
    return deliverable_read(deliverable=version.deliverables.get(kind=kind), audit=False)


def _slides(data: bytes) -> dict[str, Slide]:
    return {s.shapes.title.text_frame.text: s for s in Presentation(io.BytesIO(data)).slides}


def _table_rows(slide) -> list[list[str]]:
    table = next(s for s in slide.shapes if s.has_table).table
    return [[cell.text for cell in row.cells] for row in table.rows]


def _assert_fits(slide) -> None:
    title = slide.shapes.title.text_frame.text
    for shape in slide.shapes:
        if shape.has_text_frame and shape.text_frame.text.strip():
            fits, why = frame_fits(shape.text_frame, shape.width, shape.height)
            assert fits, f"{title}: {why}"
            assert Emu(shape.left + shape.width).inches <= SLIDE_W + 0.01, title
        if shape.has_table:
            table = shape.table
            assert Emu(shape.top + sum(r.height for r in table.rows)).inches <= FOOTER_TOP, title
            assert Emu(shape.left + sum(c.width for c in table.columns)).inches <= SLIDE_W - 0.5, title
            for row in table.rows:
                for column, cell in zip(table.columns, row.cells, strict=True):
                    fits, why = frame_fits(cell.text_frame, column.width, row.height)
                    assert fits, f"{title}: cell {why}"


def test_a_log_run_deck_has_lifecycle_slides_with_the_stored_figures(project, consultant):
    # given a transaction log run in process
    version = _log_run(project, consultant).version
    lifecycle, clv = version.metrics["lifecycle"], version.metrics["clv"]

    # when its delivered deck is read back
    data = _file(version, "deck.pptx")
    slides = _slides(data)

    # then each lifecycle part has its slide, after the validation and before the governance ones
    titles = list(slides)
    for title in LIFECYCLE_TITLES:
        assert title in titles, title
    assert (
        titles.index("Validation: how many segments?") < titles.index(CLV_TITLE) < titles.index("Bias audit")
    )

    # the CLV table's figures are the stored ones, segment by segment
    rows = _table_rows(slides[CLV_TITLE])
    assert rows[0] == ["Segment", "Customers", "P(alive)", "Mean CLV", "Share of CLV"]
    expected = [
        [
            s["name"],
            format_count(s["customers"]),
            format_share(s["p_alive_mean"]),
            format_number(s["clv_mean"]),
            format_share(s["clv_share"]),
        ]
        for s in lifecycle["clv"]["by_segment"]
    ]
    assert rows[1:] == expected
    text = slide_text(slides[CLV_TITLE])
    # the planted log's spend model is pooled: the slide says why, with the horizon and the rate
    assert clv["pooled_spend"]["reason"] in text
    assert "next 365 days" in text and "8.0% a year" in text
    assert f"expected {clv['holdout']['predicted']:,.0f} repeat purchases" in text

    # the heatmap table holds every observed cohort-period, shaded, and nothing for the others
    cohorts = lifecycle["cohorts"]
    heat = _table_rows(slides[COHORT_TITLE])
    shown = cohorts["retention"][-MAX_COHORTS:]
    assert [r[0] for r in heat[1:]] == cohorts["cohorts"][-MAX_COHORTS:]
    for row, values in zip(heat[1:], shown, strict=True):
        assert row[2:] == ["" if v is None else format_share(v) for v in values[:MAX_OFFSETS]]

    # the state diagram: one oval per state, one arrow per transition it draws
    states = lifecycle["states"]
    diagram = slides[DIAGRAM_TITLE]
    ovals = [s.name for s in diagram.shapes if s.name.startswith("State ")]
    assert ovals == [f"State {n}" for n in states["names"]]
    arrows = [s for s in diagram.shapes if s.shape_type == MSO_SHAPE_TYPE.LINE]
    matrix = states["transition_matrix"]
    n = len(matrix)
    assert len(arrows) == sum(matrix[i][j] >= MIN_ARROW for i in range(n) for j in range(n) if i != j)

    # the states table and the movers by segment
    state_rows = _table_rows(slides[STATES_TITLE])
    assert [r[0] for r in state_rows[1:]] == states["names"]
    assert [r[3] for r in state_rows[1:]] == [format_count(s["customers_now"]) for s in states["states"]]
    movers = lifecycle["movers"]
    mover_text = slide_text(slides[MOVERS_TITLE])
    assert f"{format_count(movers['customers'])} customers not dormant now" in mover_text
    assert "movers.csv" in mover_text
    assert _table_rows(slides[MOVERS_TITLE])[1:] == [
        [m["name"], format_count(m["customers"])] for m in movers["by_segment"]
    ]

    # and every text and table of the lifecycle slides fits its box, above the footer
    for title in LIFECYCLE_TITLES:
        _assert_fits(slides[title])


def test_a_log_run_report_has_a_lifecycle_chapter_with_its_figures(project, consultant):
    # given a transaction log run in process
    version = _log_run(project, consultant).version
    lifecycle = version.metrics["lifecycle"]

    # when the report is rendered (its HTML) and its delivered PDF read back
    html = render_report_html(version_content(version))
    pdf = pdf_text(io.BytesIO(_file(version, "report.pdf")))

    # then the heatmap has one cell per observed cohort-period, each titled with its share
    cells = re.findall(r'<rect class="cell"[^>]*><title>([^<]*)</title>', html)
    observed = [
        (cohort, offset, value)
        for cohort, row in zip(
            lifecycle["cohorts"]["cohorts"], lifecycle["cohorts"]["retention"], strict=True
        )
        for offset, value in zip(lifecycle["cohorts"]["offsets"], row, strict=True)
        if value is not None
    ]
    assert len(cells) == len(observed)
    assert cells[1] == f"{observed[1][0]}, month {observed[1][1]}: {format_share(observed[1][2])}"
    # the state diagram one circle per state
    circles = re.findall(r'<circle class="state"[^>]*><title>([^<]*)</title>', html)
    assert circles == lifecycle["states"]["names"]

    # the PDF has the chapter in its contents and the sections with the stored figures
    assert "Lifecycle" in pdf.split("Executive summary")[1]  # the contents, before chapter 1
    chapter = pdf.split(CLV_TITLE)[-1]
    for segment in lifecycle["clv"]["by_segment"]:
        assert (
            f"{segment['name']} {format_count(segment['customers'])} {format_share(segment['p_alive_mean'])}"
            in chapter
        )
        assert f"{format_number(segment['clv_mean'])} {format_share(segment['clv_share'])}" in chapter
    assert STATES_TITLE in chapter and MOVERS_TITLE in chapter and "movers.csv" in chapter
    assert "Retention by cohort" in chapter


def test_a_customer_table_version_has_no_lifecycle_pages(quick_run):
    # given a customer table's version
    version = quick_run.version

    # when its documents are read
    content = version_content(version)
    slides = _slides(_file(version, "deck.pptx"))
    html = render_report_html(content)

    # then nothing lifecycle was added
    assert content.customer_lifecycle is None
    assert not set(LIFECYCLE_TITLES) & set(slides)
    assert 'id="lifecycle"' not in html and 'class="cell"' not in html and 'class="state"' not in html


def test_a_fitted_spend_model_and_skipped_states_are_said_so_without_figures():
    # given a log's metrics whose spend model was fitted and whose states could not be
    clv = {"bgnbd": {"r": 1.0, "alpha": 2.0, "a": 0.1, "b": 1.0}, "gamma_gamma": {"p": 6, "q": 4, "v": 15}}
    by_segment = [
        {"segment": 0, "name": "Stored name", "customers": 9, "p_alive_mean": 0.5, "clv_mean": 12.0}
    ]
    skipped = {"states": "too few customer-periods", "movers": "no lifecycle states were fitted"}
    lifecycle = {
        "as_of": "2025-07-01",
        "clv": {"horizon_days": 90, "by_segment": by_segment},
        "skipped": skipped,
    }

    # when the documents' lifecycle part is derived, with the segment renamed for the documents
    part = lifecycle_content(
        RunMetrics.from_dict({"clv": clv, "lifecycle": lifecycle}), discount_rate=0.1, names={0: "Renamed"}
    )

    # then the models are named, the reasons given, and no diagram or heatmap drawn
    assert part is not None and part.clv is not None and part.states is not None
    assert "spend per purchase by the Gamma-Gamma model" in part.clv.text and "10% a year" in part.clv.text
    assert part.clv.table is not None and part.clv.table.rows[0][0] == "Renamed"
    assert "could not be computed for this version: too few customer-periods" in part.states.text
    assert part.states.table is None and part.diagram is None and part.cohorts is None
    assert lifecycle_content(RunMetrics.from_dict({})) is None
