"""The approval of a renamed version in a real browser: the project administrator adds a reviewer,
the consultant renames a segment and submits, the reviewer approves, and the approved pack's deck
and report say approved and carry the new name."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from pptx import Presentation
from pypdf import PdfReader

from governance.presentation import presented_segments
from projects.models import Membership
from projects.services import membership_add
from tests.conftest import ROOT
from tests.projects.conftest import quick_run  # noqa: F401  (shared fixture)
from tests.reports.helpers import slide_text

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = ROOT / "var" / "screens"
NEW_NAME = "Weekend regulars"


def _shot(session, label: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    session.page.screenshot(path=str(SCREENS / f"approval-{session.name}-{label}.png"), full_page=True)


def test_a_renamed_version_is_approved_and_its_pack_carries_the_new_name(
    open_session,
    quick_run,  # noqa: F811
    consultant,
    make_user,
    tmp_path,
):
    project, version = quick_run.project, quick_run.version
    first = presented_segments(version)[0]
    admin, rita = make_user("ada"), make_user("rita")
    membership_add(project=project, user=admin, role=Membership.Role.ADMIN)
    version_page = f"/governance/versions/{version.pk}/"

    # The project administrator adds rita as a reviewer on the members page.
    ada = open_session("admin")
    ada.login(admin.username)
    ada.page.goto(f"/projects/{project.pk}/members/")
    ada.page.fill("#id_user", rita.username)
    ada.page.select_option("#id_role", Membership.Role.REVIEWER)
    ada.page.click("button:has-text('Invite')")
    ada.page.wait_for_selector("text=rita joined the project as Reviewer")
    _shot(ada, "01-reviewer-added")
    ada.page.goto(f"/projects/{project.pk}/")
    assert ada.page.locator("#id_industry").input_value() == project.industry
    ada.page.locator("#presentation").screenshot(path=str(SCREENS / "approval-admin-00-project-words.png"))

    # The consultant renames the first segment on the version page, then submits.
    me = open_session("consultant")
    me.login(consultant.username)
    me.page.goto(version_page)
    name_field = me.page.locator(f"#name_{first.segment}")
    assert name_field.input_value() == first.name
    name_field.fill(NEW_NAME)
    _shot(me, "02-renaming")
    me.page.click("button:has-text('Save names and actions')")
    me.page.wait_for_selector("text=names and actions saved")
    assert me.page.locator(f"#name_{first.segment}").input_value() == NEW_NAME
    assert f"Suggested: {first.name}" in me.page.locator("#names").inner_text()
    _shot(me, "03-renamed")
    me.page.click("button[value=submit]")
    me.page.wait_for_selector(".badge.in_review")
    assert me.page.locator(f"#name_{first.segment}").count() == 0  # fixed once submitted
    _shot(me, "04-submitted")

    # The reviewer signs in as herself, reads the new name and approves.
    reviewer = open_session("reviewer")
    reviewer.login(rita.username)
    reviewer.page.goto(version_page)
    assert NEW_NAME in reviewer.page.locator("#presented-names").inner_text()
    reviewer.page.fill("input[name=reason]", "Names read well; segments are stable.")
    reviewer.page.click("button[value=approve]")
    reviewer.page.wait_for_selector(".badge.approved")
    _shot(reviewer, "05-approved")

    # The approved pack holds a deck and a report that say approved and carry the new name.
    with reviewer.page.expect_download() as download:
        reviewer.page.click("#approved-pack a")
    path = tmp_path / "approved.zip"
    download.value.save_as(path)
    archive = zipfile.ZipFile(path)
    deck = Presentation(io.BytesIO(archive.read("deck-approved.pptx")))
    deck_text = " ".join(slide_text(slide) for slide in deck.slides)
    pages = PdfReader(io.BytesIO(archive.read("report-approved.pdf"))).pages
    report_text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    for text in (deck_text, report_text):
        assert re.search(r"Approved by rita on \d{1,2} \w+ \d{4}", text)
        assert NEW_NAME in text and first.name not in text
    for session in (ada, me, reviewer):
        assert not session.errors, session.errors
