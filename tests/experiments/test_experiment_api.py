"""``/api/v1/experiments/`` and ``/api/v1/analyses/``: an experiment designed on an approved version,
registered by someone other than its author, its assignment downloaded, outcomes with a planted
effect in one segment analysed, and the deck that presents them.

What a client's engineer would check: balanced arms in every segment, the planted segment's
estimate equal to statsmodels' Welch test on the same customers, effects.csv equal to the stored
analysis, a PPTX that opens and shows the same figures, and nothing of it for an outsider.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pptx import Presentation
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from audit.models import AuditEvent
from experiments.deck import number, segment_label
from governance.lifecycle import version_transition
from tests.api.conftest import api  # noqa: F401  (shared fixtures)
from tests.monitoring.conftest import admin  # noqa: F401
from tests.projects.conftest import quick_run  # noqa: F401

pytestmark = pytest.mark.django_db
EFFECT = 4.0
DESIGN = {
    "arms": "control:1,treatment:1",
    "seed": 0,
    "alpha": 0.05,
    "power": 0.8,
    "primary": {"name": "spend_after", "kind": "continuous", "baseline": 10.0, "sd": 3.0, "mde": 1.0},
    "analysis_plan": "Welch per segment, Holm across segments.",
}


def approve(version, consultant, reviewer):  # type: ignore[no-untyped-def]
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="ok", override_reason="checked"
    )
    return version


@pytest.fixture
def approved(quick_run, consultant, reviewer):  # type: ignore[no-untyped-def]  # noqa: F811
    return approve(quick_run.version, consultant, reviewer)


def slide_texts(data: bytes) -> list[str]:
    """Every slide's text: its text boxes and its table cells, in order."""
    texts = []
    for slide in Presentation(io.BytesIO(data)).slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
        texts.append("\n".join(parts))
    return texts


def outcomes_with_effect(assignment: pd.DataFrame, segment: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    treated = (assignment["arm"] == "treatment") & (assignment["segment"] == segment)
    return pd.DataFrame(
        {
            "customer_id": assignment["customer_id"],
            "spend_after": rng.normal(10.0, 3.0, len(assignment)) + np.where(treated, EFFECT, 0.0),
            "visits": rng.poisson(3.0, len(assignment)).astype(float),
        }
    )


def upload(frame: pd.DataFrame) -> SimpleUploadedFile:
    return SimpleUploadedFile("outcomes.csv", frame.to_csv(index=False).encode(), content_type="text/csv")


def test_design_register_assign_analyse_and_present(approved, admin, consultant, reviewer, outsider, api):  # noqa: F811
    as_admin, as_consultant, as_reviewer = api(admin), api(consultant), api(reviewer)
    created = as_admin.post(
        "/api/v1/experiments/",
        {"version": approved.pk, "name": "Spring offer", "design": DESIGN},
        format="json",
    )
    assert created.status_code == 201, created.content
    experiment = created.json()
    assert experiment["status"] == "draft" and experiment["registration"] is None
    assert experiment["design"] == DESIGN and experiment["created_by"] == admin.username
    url = f"/api/v1/experiments/{experiment['id']}/"
    listed = as_consultant.get(f"/api/v1/experiments/?version={approved.pk}").json()["results"]
    assert [e["id"] for e in listed] == [experiment["id"]]

    submitted = as_admin.post(url + "submit/").json()
    assert submitted["status"] == "submitted" and submitted["submitted_at"]
    frozen = json.dumps(submitted["registration"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(frozen.encode()).hexdigest() == submitted["registration_sha256"]

    # The author may not register their own design, even as a project administrator.
    own = as_admin.post(url + "register/")
    assert own.status_code == 400
    assert "someone other than its author" in own.json()["error"]["message"]
    assert as_consultant.post(url + "register/").status_code == 403  # a consultant approves nothing
    registered = as_reviewer.post(url + "register/")
    assert registered.status_code == 200
    assert (
        registered.json()["status"] == "registered" and registered.json()["decided_by"] == reviewer.username
    )

    downloaded = as_consultant.get(url + "files/assignment.csv")
    assert downloaded.status_code == 200 and "assignment.csv" in downloaded["Content-Disposition"]
    assignment = pd.read_csv(io.BytesIO(downloaded.content), dtype={"customer_id": str})
    arms = pd.crosstab(assignment["segment"], assignment["arm"])
    assert ((arms["control"] - arms["treatment"]).abs() <= 1).all()  # balanced in every segment
    counts = {str(c["segment"]): c["arms"] for c in submitted["registration"]["counts"]}
    assert {
        str(s): {"control": int(r["control"]), "treatment": int(r["treatment"])} for s, r in arms.iterrows()
    } == counts
    assert AuditEvent.objects.filter(action="experiment.download", actor=consultant).count() == 1
    assert as_consultant.get(url + "files/secrets.txt").status_code == 404

    planted = int(assignment["segment"].value_counts().idxmax())
    outcomes = outcomes_with_effect(assignment, planted)
    posted = as_consultant.post(
        url + "analyses/", {"file": upload(outcomes), "metrics": "spend_after"}, format="multipart"
    )
    assert posted.status_code == 201, posted.content
    analysis = posted.json()
    assert analysis["metrics"] == ["spend_after"] and analysis["exploratory"] is False

    joined = assignment.merge(outcomes, on="customer_id")
    rows = joined[joined["segment"] == planted]
    treated = rows.loc[rows["arm"] == "treatment", "spend_after"].to_numpy()
    control = rows.loc[rows["arm"] == "control", "spend_after"].to_numpy()
    compare = CompareMeans(DescrStatsW(treated), DescrStatsW(control))
    _, p, _ = compare.ttest_ind(usevar="unequal")
    low, high = compare.tconfint_diff(alpha=0.05, usevar="unequal")
    (effect,) = [
        r
        for r in analysis["result"]["effects"]
        if str(r["segment"]) == str(planted) and r["method"] == "welch_t"
    ]
    np.testing.assert_allclose(
        [effect["estimate"], effect["ci_low"], effect["ci_high"], effect["p_value"]],
        [treated.mean() - control.mean(), low, high, p],
        rtol=1e-9,
    )
    assert effect["ci_low"] > 0 and effect["exploratory"] is False

    analysis_url = f"/api/v1/analyses/{analysis['id']}/"
    assert as_reviewer.get(analysis_url).json()["result"] == analysis["result"]
    assert [a["id"] for a in as_reviewer.get(url + "analyses/").json()] == [analysis["id"]]
    effects = pd.read_csv(io.BytesIO(as_consultant.get(analysis_url + "files/effects.csv").content))
    expected = pd.DataFrame(analysis["result"]["effects"])
    np.testing.assert_allclose(effects["estimate"], expected["estimate"].astype(float), rtol=1e-12)
    assert list(effects["method"]) == list(expected["method"])

    stored = as_consultant.get(analysis_url + "files/analysis.json")
    assert json.loads(stored.content) == analysis["result"]
    pdf = as_reviewer.get(analysis_url + "files/experiment.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert as_consultant.get(analysis_url + "files/drift.json").status_code == 404

    deck = as_consultant.get(analysis_url + "files/experiment.pptx")
    assert deck.status_code == 200
    assert deck["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.presentationml")
    texts = slide_texts(deck.content)
    assert len(texts) == 4  # title, design, spend_after, checks
    assert "Spring offer" in texts[0] and "registered design" in texts[0]
    metric_slide = texts[2]
    assert "spend_after" in metric_slide and segment_label(planted) in metric_slide
    assert number(effect["estimate"]) in metric_slide
    assert f"{number(effect['ci_low'])} to {number(effect['ci_high'])}" in metric_slide
    assert not any("Exploratory" in t for t in texts)
    chart = next(s for s in Presentation(io.BytesIO(deck.content)).slides[2].shapes if s.has_chart).chart
    main = [
        r
        for r in analysis["result"]["effects"]
        if r["method"] in ("welch_t", "post_stratified") and r["estimate"] is not None
    ]
    np.testing.assert_allclose(list(chart.plots[0].series[0].values), [r["estimate"] for r in main])
    downloads = AuditEvent.objects.filter(action="experiment.analysis_download")
    assert [e.details["file"] for e in downloads.order_by("id")] == [
        "effects.csv",
        "analysis.json",
        "experiment.pdf",
        "experiment.pptx",
    ]

    # A metric the registration did not name makes the analysis, and every slide, exploratory.
    more = as_consultant.post(
        url + "analyses/", {"file": upload(outcomes), "metrics": "spend_after,visits"}, format="multipart"
    ).json()
    assert more["exploratory"] is True
    visits = [r for r in more["result"]["effects"] if r["metric"] == "visits"]
    assert visits and all(r["exploratory"] for r in visits)
    marked = slide_texts(as_consultant.get(f"/api/v1/analyses/{more['id']}/files/experiment.pptx").content)
    assert len(marked) == 5 and all("Exploratory" in t for t in marked)
    assert "visits: effect by segment (exploratory)" in marked[3]

    stranger = api(outsider)
    for path in (
        url,
        url + "analyses/",
        url + "files/assignment.csv",
        analysis_url,
        analysis_url + "files/experiment.pptx",
    ):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert stranger.post(url + "register/").status_code == 404
    assert stranger.get(f"/api/v1/experiments/?project={approved.project_id}").json()["results"] == []
    assert not AuditEvent.objects.filter(actor=outsider, project=approved.project).exists()


def test_a_bad_design_is_refused_naming_the_problem(quick_run, consultant, reviewer, api):  # noqa: F811
    caller = api(consultant)

    def refused(body: dict) -> dict:  # type: ignore[type-arg]
        response = caller.post("/api/v1/experiments/", body, format="json")
        assert response.status_code == 400, response.content
        return response.json()["error"]

    draft = refused({"version": quick_run.version.pk, "name": "Offer", "design": DESIGN})
    assert "draft" in draft["message"] and "approved version" in draft["message"]
    approved = approve(quick_run.version, consultant, reviewer)
    base = {"version": approved.pk, "name": "Offer"}
    assert "at least two arms" in refused({**base, "design": {**DESIGN, "arms": "control:1"}})["message"]
    assert "ratio" in refused({**base, "design": {**DESIGN, "arms": "control:1,treatment:x"}})["message"]
    assert "cannot read" in refused({**base, "design": {**DESIGN, "seed": "x"}})["message"]
    assert "alpha" in refused({**base, "design": {**DESIGN, "alpha": 2}})["message"]
    assert (
        "binary or continuous"
        in refused({**base, "design": {**DESIGN, "primary": {**DESIGN["primary"], "kind": "weird"}}})[
            "message"
        ]
    )
    for arms in (5, [{"x": 1}]):
        assert "name:ratio" in refused({**base, "design": {**DESIGN, "arms": arms}})["fields"]["design"][0]
    assert "name" in refused({**base, "name": " ", "design": DESIGN})["fields"]
    assert "design" in refused({"version": approved.pk, "name": "Offer"})["fields"]
    assert "version" in refused({**base, "version": "x", "design": DESIGN})["fields"]
    assert not AuditEvent.objects.filter(action="experiment.create").exists()

    # A reviewer rejects a submitted design only saying why; the author may then submit it again.
    made = caller.post("/api/v1/experiments/", {**base, "design": DESIGN}, format="json").json()
    url = f"/api/v1/experiments/{made['id']}/"
    assert caller.post(url + "submit/").json()["status"] == "submitted"
    as_reviewer = api(reviewer)
    silent = as_reviewer.post(url + "reject/", {"reason": " "}, format="json")
    assert silent.status_code == 400 and "say why" in silent.json()["error"]["fields"]["reason"][0]
    rejected = as_reviewer.post(url + "reject/", {"reason": "the MDE is too small"}, format="json").json()
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "the MDE is too small"
    assert caller.post(url + "submit/").json()["status"] == "submitted"
