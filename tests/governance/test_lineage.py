"""A version follows the previous version of its own data, not the project's latest one."""

from __future__ import annotations

import re

from django.urls import reverse

from governance.lifecycle import version_transition
from tests.projects.helpers import NUMERIC, upload_csv


def _version_on(project, user, name, seed):  # type: ignore[no-untyped-def]
    from runs import services as run_services

    raw, _ = upload_csv(240, seed=seed)
    dataset = run_services.dataset_upload(
        project=project, name=name, content=raw, id_column="customer_id", user=user
    )
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=user, enqueue=False)
    return run_services.run_execute(run_id=run.pk).version


def test_parents_follow_the_data_and_compare_defaults_to_the_parent(
    project, consultant, reviewer, login, api
):
    telco = _version_on(project, consultant, "telco.csv", seed=1)
    cdnow = _version_on(project, consultant, "cdnow.csv", seed=2)
    # A refreshed export of the first table, under its name in another case and format.
    telco_again = _version_on(project, consultant, "Telco.CSV", seed=3)

    assert telco.parent is None
    assert cdnow.parent is None  # not the telco version made just before it
    assert telco_again.parent == telco

    # The API's diff compares with that parent by default; a first version says so.
    answer = api(consultant).get(f"/api/v1/versions/{telco_again.pk}/diff/")
    assert answer.status_code == 200, answer.content
    first = api(consultant).get(f"/api/v1/versions/{cdnow.pk}/diff/")
    assert first.status_code == 400
    assert "first version of its data" in first.json()["error"]["message"]

    # The project page's compare form preselects the latest run and its parent's run.
    page = login(consultant).get(reverse("runs:project", args=[project.pk])).content.decode()
    selected = re.findall(r'<option value="(\d+)" selected>', page)
    assert selected == [str(telco_again.run.pk), str(telco.run.pk)]
    # So does the run page's "Compare with".
    run_page = login(consultant).get(reverse("runs:run_detail", args=[telco_again.run.pk])).content.decode()
    assert re.findall(r'<option value="(\d+)" selected>', run_page) == [str(telco.run.pk)]


def test_the_versions_list_shows_status_data_author_and_approver(project, consultant, reviewer, login):
    version = _version_on(project, consultant, "customers.csv", seed=4)
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(version=version, action="approve", user=reviewer, reason="")
    draft = _version_on(project, consultant, "customers.csv", seed=5)

    page = login(reviewer).get(reverse("runs:project", args=[project.pk])).content.decode()
    table = page[page.index('id="versions"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    cells = [re.sub(r"<[^>]+>", " ", row).split() for row in rows[1:3]]
    headers = re.sub(r"<[^>]+>", "|", rows[0])
    for header in ("Status", "Data", "Author", "Approved by"):
        assert header in headers
    newest, approved = cells
    assert newest[:2] == [draft.label, "after"] and "Draft" in newest and consultant.username in newest
    assert "Approved" in approved and reviewer.username in approved and "customers.csv" in approved
