"""The consultant's whole day in a real browser: log in, upload, run on the worker, read, download."""

from __future__ import annotations

import re

import pytest
from pptx import Presentation

from tests.e2e.conftest import TABLET
from tests.projects.helpers import upload_csv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_consultant_goes_from_login_to_a_downloaded_deck(
    celery_worker, open_session, project, consultant, reviewer, tmp_path
):
    me = open_session("consultant")
    page = me.page

    # A stranger is sent to the login page.
    page.goto("/")
    assert "/accounts/login/" in page.url
    me.shot("01-login")
    me.login(consultant.username)
    assert page.locator("h1").inner_text() == "Your projects"
    me.shot("02-dashboard")

    page.click(f"text={project.name}")
    page.wait_for_url(f"**/projects/{project.pk}/")
    me.shot("03-project-empty")

    # Upload with the progress bar, then the run form with its defaults.
    raw, _ = upload_csv(800, seed=7)
    csv = tmp_path / "customers.csv"
    csv.write_bytes(raw)
    page.click("text=Upload data")
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")
    page.set_input_files("#id_file", str(picture))
    page.click("button:has-text('Upload')")
    page.wait_for_selector("text=is not a CSV file")  # refused in the page, the form kept
    page.set_input_files("#id_file", str(csv))
    me.shot("04-upload")
    page.click("button:has-text('Upload')")
    page.wait_for_url(re.compile(r".*/runs/new/\?dataset=\d+$"))
    assert "Uploaded customers.csv: 800 rows" in page.content()
    # The profile ticks region as a category; numbers alone keep this journey's runs quick
    # (mixed-type methods take about twenty times as long on these 800 customers).
    assert page.is_checked("input[name=categorical_columns][value=region]")
    page.uncheck("input[name=categorical_columns][value=region]")
    page.fill("#id_k_max", "4")
    me.shot("05-run-form")
    page.click("button:has-text('Start run')")

    # Live progress from the worker, then the results.
    page.wait_for_url(re.compile(r".*/runs/\d+/$"))
    me.shot("06-run-progress", full_page=False)
    page.wait_for_selector("#results", timeout=180_000)
    page.wait_for_selector(".chart.drawn")
    page.locator(".chart.drawn").nth(3).wait_for()
    cards = page.locator(".segment h3").all_inner_texts()
    assert len(cards) >= 2
    assert page.locator(".js-plotly-plot").count() >= 4
    me.shot("07-results")

    # Download the deck and check that it names every segment.
    with page.expect_download() as download:
        page.click("#downloads >> text=deck.pptx")
    deck = tmp_path / "deck.pptx"
    download.value.save_as(deck)
    text = " ".join(
        shape.text_frame.text
        for slide in Presentation(str(deck)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    for name in cards:
        assert name in text

    # A second run, agglomerative only with fewer segments, compared side by side with the first.
    first_run = page.url
    page.goto(f"/projects/{project.pk}/runs/new/")
    page.uncheck("input[name=categorical_columns][value=region]")
    page.fill("#id_k_max", "3")
    page.fill("#id_random_state", "1")
    for name in ("kmeans", "gmm", "hdbscan"):
        page.uncheck(f"input[name=algorithms][value={name}]")
    page.check("input[name=algorithms][value=agglomerative]")
    page.click("button:has-text('Start run')")
    page.wait_for_selector("#results", timeout=180_000)
    page.wait_for_selector(".chart[data-chart=dendrogram].drawn")
    assert (
        page.locator(
            ".chart[data-chart=dendrogram] .js-plotly-plot path, "
            ".chart[data-chart=dendrogram] .scatterlayer .trace"
        ).count()
        >= 1
    )
    me.shot("07b-results-dendrogram")
    page.goto(first_run)
    page.click("button:has-text('Compare')")
    page.wait_for_url(re.compile(r".*/runs/compare/\?a=\d+&b=\d+$"))
    page.locator(".chart.drawn").nth(7).wait_for()
    me.shot("08-compare")

    page.goto(f"/projects/{project.pk}/")
    assert "deliverable.download" in page.content()
    me.shot("09-project-with-results")
    page.goto("/")
    assert page.locator(".project-card li").count() == 2  # the latest runs, on the dashboard
    me.shot("10-dashboard-with-runs")
    assert not [e for e in me.errors if "Content Security Policy" in e or "Refused" in e], me.errors

    # The reviewer reads the same version, on a tablet.
    rita = open_session("reviewer", viewport=TABLET)
    rita.login(reviewer.username)
    rita.page.click(f"text={project.name}")
    assert "you are reviewer" in rita.page.content()
    first_run_number = re.search(r"/runs/(\d+)/", first_run).group(1)
    rita.page.click(f"table >> text=#{first_run_number}")  # the first run: its cards are known
    rita.page.wait_for_selector("#results")
    rita.page.locator(".chart.drawn").nth(3).wait_for()
    assert rita.page.locator(".segment h3").all_inner_texts() == cards
    rita.shot("01-results-tablet")
    width = rita.page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], "the results page scrolls sideways on a tablet"
    assert not rita.errors, rita.errors

    # The consultant submits the first version for review; they never see an approve button.
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("link", name="v1", exact=True).click()
    page.wait_for_url(re.compile(r".*/versions/\d+/$"))
    version_page = page.url
    assert page.locator("button[value=approve]").count() == 0
    page.click("button[value=submit]")
    page.wait_for_selector(".badge.in_review")
    assert "Waiting for a reviewer" in page.content()
    assert page.locator("button[value=approve]").count() == 0
    me.shot("11-version-submitted")

    # The reviewer reads the version's bias and privacy sections, then approves with a reason.
    rita.page.goto(version_page)
    for heading in ("Bias audit", "Differentially private profile"):
        assert rita.page.locator(f"h2:has-text('{heading}')").is_visible()
    rita.shot("02-version-in-review-tablet")
    rita.page.fill("input[name=reason]", "Stable segments, no bias flags.")
    rita.page.click("button[value=approve]")
    rita.page.wait_for_selector(".badge.approved")
    line = rita.page.locator("#status-line").inner_text()
    assert line.startswith("Approved by rita on ") and "Stable segments, no bias flags." in line
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", line)
    rita.shot("03-version-approved-tablet")
    width = rita.page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], "the version page scrolls sideways on a tablet"

    # The author sees the approval too, and still no approve button.
    page.goto(version_page)
    assert page.locator(".badge.approved").is_visible()
    assert "Approved by rita" in page.locator("#status-line").inner_text()
    assert page.locator("button[value=approve]").count() == 0
    me.shot("12-version-approved")
    assert not rita.errors, rita.errors
