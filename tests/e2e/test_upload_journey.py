"""Uploading in a real browser: a purchase log is read as a log and segmented as one on the
worker; each bad file gets its own message on the page, and none of them is kept."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from segmentation.synthetic.transactions import transaction_log
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = ROOT / "var" / "screens"


def shot(page, label: str) -> None:  # type: ignore[no-untyped-def]
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"upload-{label}.png"), full_page=True)


def upload(page, project, path) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/projects/{project.pk}/datasets/upload/")
    page.set_input_files("#id_file", str(path))
    page.click("button:has-text('Upload')")


def bad_files() -> list[tuple[str, bytes, str]]:
    """(file name, bytes, what the page must say): one per way an upload goes wrong."""
    header = "customer_id,spend,visits,region\n"
    rows = [f"C{i},{10 + i},{i % 4},North\n" for i in range(30)]
    ragged = header + "".join(rows[:5]) + "C99,1,2,West,extra\n" + "".join(rows[5:])
    duplicated = header + "".join(rows) + "C3,99,1,South\nC3,98,2,East\n"
    return [
        ("ragged.csv", ragged.encode(), "line 7 has 5 fields where the header has 4"),
        (
            "twice.csv",
            b"customer_id,spend,customer_id\nC1,2,C1\nC2,3,C2\n",
            "two columns are both called customer_id",
        ),
        ("repeats.csv", duplicated.encode(), "1 id appears more than once in 'customer_id'"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "contains binary data"),
    ]


def test_a_log_is_read_as_one_and_segmented_and_bad_files_are_refused_in_words(
    celery_worker, open_session, project, consultant, tmp_path
):
    from projects.models import Dataset

    me = open_session("upload")
    page = me.page
    me.login(consultant.username)

    # A purchase log: recognised as events from its customers, the run form set for a log.
    log, _ = transaction_log(150, seed=5, intensity=0.6)
    path = tmp_path / "purchases.csv"
    log.to_csv(path, index=False)
    upload(page, project, path)
    page.wait_for_url(re.compile(r".*/runs/new/\?dataset=\d+$"))
    sentence = f"{len(log):,} events from 150 customers"
    assert f"a transaction log, {sentence}" in page.inner_text("body")
    assert page.is_checked("input[name=input_kind][value=transactions]")
    assert page.input_value("#id_timestamp_column") == "timestamp"
    assert page.input_value("#id_amount_column") == "amount"
    page.wait_for_selector("#group-log", state="visible")
    for group in ("rfm", "temporal"):
        page.check(f"input[name=features][value={group}]")
    page.fill("#id_k_max", "4")
    page.fill("#id_stability_resamples", "5")
    page.wait_for_function(
        "() => document.querySelector('#spec-summary').textContent.includes('rfm, temporal')"
    )
    shot(page, "01-run-form-log")
    page.click("button:has-text('Start run')")
    page.wait_for_selector("#results", timeout=180_000)
    assert page.locator(".segment h3").count() >= 2
    shot(page, "02-results")

    # The project page shows the log's profile and the verdict in words.
    page.goto(f"/projects/{project.pk}/")
    profile = page.locator("details.dataset-profile[data-table-kind=events]")
    assert sentence in profile.inner_text()
    assert "customer_id repeats" in profile.locator(".verdict").inner_text()
    assert profile.locator("tr[data-column=timestamp] .role").inner_text() == "timestamp"
    shot(page, "03-project-profile")

    # A UTF-16 table (as Excel saves "Unicode text") is read, accented names and all.
    people = pd.DataFrame(
        {"customer_id": ["P1", "P2", "P3"], "town": ["Zürich", "Malmö", "Cádiz"], "spend": ["10", "20", "30"]}
    )
    path = tmp_path / "people.csv"
    path.write_bytes(people.to_csv(index=False).encode("utf-16"))
    upload(page, project, path)
    page.wait_for_url(re.compile(r".*/runs/new/\?dataset=\d+$"))
    assert "Uploaded people.csv: 3 rows" in page.content()
    assert "Zürich" in page.locator(".dataset-profile").text_content()
    kept = Dataset.objects.count()

    # Each bad file is refused on the upload page with its own message; none is kept.
    for name, raw, message in bad_files():
        path = tmp_path / name
        path.write_bytes(raw)
        upload(page, project, path)
        page.wait_for_selector(f"text={message}")
        assert "C error" not in page.content()
        shot(page, f"04-refused-{path.stem}")
    assert Dataset.objects.count() == kept == 2
    assert not [e for e in me.errors if "Content Security Policy" in e or "Refused" in e], me.errors
