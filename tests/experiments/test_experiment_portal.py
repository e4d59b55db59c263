"""The portal pages of experiments: a consultant designs one on an approved version, a reviewer
registers it, the assignment is downloaded, and outcomes with a planted effect are analysed.

What the pages show is checked against the files the user downloads (design.json, effects.csv)
and against statsmodels and numpy on the same customers.
"""

from __future__ import annotations

import io
import json
import math
import subprocess

import lxml.html
import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from statsmodels.stats.power import NormalIndPower

from audit.models import AuditEvent
from experiments.models import Experiment, ExperimentAnalysis
from projects.models import Membership
from projects.services import membership_add

pytestmark = pytest.mark.django_db
DESIGN = {
    "name": "Spend test",
    "arms": "control:1,treatment:1",
    "seed": "7",
    "alpha": "0.05",
    "power": "0.8",
    "metric_name": "spend_after",
    "metric_kind": "continuous",
    "baseline": "10",
    "sd": "3",
    "mde": "1.5",
    "guardrails": "",
    "hypotheses": "The offer raises spend in every segment.",
    "analysis_plan": "Welch per segment, Holm across segments.",
    "covariate": "pre_spend",
    "rho": "0.5",
}
EFFECT = 4.0


def table_rows(page: str, table: str) -> list[tuple[dict[str, str], list[str]]]:
    """Each body row of the table (its id, or ``.class``) as its data attributes and cell texts."""
    tree = lxml.html.fromstring(page)
    found = []
    where = f'contains(@class, "{table[1:]}")' if table.startswith(".") else f'@id="{table}"'
    for row in tree.xpath(f"//table[{where}]/tbody/tr"):
        attrs = {k[5:]: v for k, v in row.attrib.items() if k.startswith("data-")}
        found.append((attrs, [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]))
    return found


def section(page: str, metric: str) -> str:
    tree = lxml.html.fromstring(page)
    (node,) = tree.xpath(f'//section[@data-metric="{metric}"]')
    return lxml.html.tostring(node, encoding="unicode")


def outcomes_from(assignment: pd.DataFrame, planted: int) -> pd.DataFrame:
    """Outcomes per customer of assignment.csv: spend after with a planted effect in one segment,
    a pre-period spend correlated with it, and visits, a metric the design does not name."""
    rng = np.random.default_rng(3)
    pre = rng.normal(10.0, 3.0, len(assignment))
    treated = (assignment["arm"] == "treatment") & (assignment["segment"] == planted)
    return pd.DataFrame(
        {
            "customer_id": assignment["customer_id"],
            "spend_after": 5.0
            + 0.5 * pre
            + rng.normal(0.0, 2.0, len(assignment))
            + np.where(treated, EFFECT, 0.0),
            "pre_spend": pre,
            "visits": rng.poisson(3.0, len(assignment)),
        }
    )


def analyse(client, experiment, outcomes: pd.DataFrame, metrics: str):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("outcomes.csv", outcomes.to_csv(index=False).encode(), "text/csv")
    return client.post(
        reverse("experiments:experiment_analyse", args=[experiment.pk]),
        {"file": upload, "metrics": metrics, "covariate": "pre_spend"},
    )


def test_a_design_is_registered_downloaded_and_its_outcomes_analysed_on_the_portal(
    approved, consultant, reviewer, outsider, client
):
    version = approved
    # given the consultant on the version page of an approved version
    client.force_login(consultant)
    page = client.get(reverse("governance:version_detail", args=[version.pk])).content.decode()
    listing = reverse("experiments:version_experiments", args=[version.pk])
    assert f'href="{listing}"' in page
    assert 'id="design-form"' in client.get(listing).content.decode()

    # when they design an experiment with the form
    response = client.post(listing, DESIGN)
    experiment = Experiment.objects.get()
    detail = reverse("experiments:experiment_detail", args=[experiment.pk])
    assert response.status_code == 302 and response["Location"] == detail

    # then the draft's page shows the design live, not registered, with design.json's power rows
    page = client.get(detail).content.decode()
    assert 'id="not-registered"' in page and ">Draft<" in page
    design = json.loads(
        client.get(reverse("experiments:experiment_file", args=[experiment.pk, "design.json"])).content
    )
    shown = table_rows(page, "power")
    assert [(a["segment"], a["arm"], cells[2:7], cells[-1]) for a, cells in shown] == [
        (
            str(r["segment"]),
            r["arm"],
            [str(r[k]) for k in ("n_control", "n_treatment", "required_control", "required_treatment")]
            + [f"{r['achieved_power']:.3f}"],
            "readable" if r["readable"] else "too small to read on its own",
        )
        for r in design["power_rows"]
    ]
    assert {cells[-1] for _, cells in shown} == {"readable", "too small to read on its own"}
    # the sizes and power are statsmodels' for d = mde / sd at the planned 1:1 ratio
    needed = NormalIndPower().solve_power(0.5, alpha=0.05, power=0.8, ratio=1.0)
    everyone = next(r for r in design["power_rows"] if r["segment"] == "all")
    assert everyone["required_control"] == math.ceil(needed)
    reached = NormalIndPower().power(
        0.5, nobs1=everyone["n_control"], alpha=0.05, ratio=everyone["n_treatment"] / everyone["n_control"]
    )
    assert shown[-1][1][6] == f"{reached:.3f}"
    assert "with ρ = 0.5" in page and "1 − ρ² = 0.750 (25% less)" in page
    flagged = [r for r in design["balance_rows"] if r["flagged"]]
    assert page.count('<span class="flag">|SMD| &gt; 0.1</span>') == len(flagged)
    counts = {a["segment"]: cells for a, cells in table_rows(page, "counts")}
    assert counts == {
        str(c["segment"]): [str(c["segment"]), f"{c['customers']:,}", *(f"{n:,}" for n in c["arms"].values())]
        for c in design["counts"]
    }

    # when the consultant submits it, they cannot register it themselves
    client.post(reverse("experiments:experiment_submit", args=[experiment.pk]))
    experiment.refresh_from_db()
    assert experiment.status == "submitted" and len(experiment.registration_sha256) == 64
    page = client.get(detail).content.decode()
    assert (
        experiment.registration_sha256 in page and 'id="waiting"' in page and 'id="decide-form"' not in page
    )
    response = client.post(
        reverse("experiments:experiment_decide", args=[experiment.pk]), {"action": "register"}, follow=True
    )
    assert "A consultant cannot register or reject a design" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "submitted"

    # then the reviewer registers it
    client.force_login(reviewer)
    assert 'id="decide-form"' in client.get(detail).content.decode()
    client.post(reverse("experiments:experiment_decide", args=[experiment.pk]), {"action": "register"})
    experiment.refresh_from_db()
    assert experiment.status == "registered" and experiment.decided_by == reviewer

    # and assignment.csv deals the arms evenly within every segment, its download audited
    before = AuditEvent.objects.filter(action="experiment.download", actor=reviewer).count()
    response = client.get(reverse("experiments:experiment_file", args=[experiment.pk, "assignment.csv"]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assignment = pd.read_csv(io.BytesIO(response.content), dtype={"customer_id": str})
    assert AuditEvent.objects.filter(action="experiment.download", actor=reviewer).count() == before + 1
    arms = pd.crosstab(assignment["segment"], assignment["arm"])
    assert ((arms["control"] - arms["treatment"]).abs() <= 1).all()
    assert {int(s): int(n) for s, n in arms.sum(axis=1).items()} == {
        c["segment"]: c["customers"] for c in design["counts"]
    }

    # when the consultant uploads outcomes with an effect planted in the largest segment
    planted = int(assignment["segment"].value_counts().idxmax())
    outcomes = outcomes_from(assignment, planted)
    client.force_login(consultant)
    response = analyse(client, experiment, outcomes, "spend_after")
    analysis = ExperimentAnalysis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("experiments:analysis_detail", args=[analysis.pk])

    # then its page shows that segment's effect as effects.csv has it, confirmatory
    page = client.get(response["Location"]).content.decode()
    assert "exploratory" not in page.lower() and "<svg" in page and f"Segment {planted} · treatment" in page
    effects = pd.read_csv(
        io.BytesIO(
            client.get(reverse("experiments:analysis_file", args=[analysis.pk, "effects.csv"])).content
        )
    )
    welch = effects[(effects["method"] == "welch_t") & (effects["segment"] == str(planted))].iloc[0]
    row = next(
        cells
        for a, cells in table_rows(section(page, "spend_after"), ".effects")
        if a == {"segment": str(planted), "arm": "treatment", "method": "welch_t"}
    )
    assert row[3] == f"{welch['estimate']:.4g}"
    joined = assignment.merge(outcomes, on="customer_id")
    inside = joined[joined["segment"] == planted]
    difference = (
        inside.loc[inside["arm"] == "treatment", "spend_after"].mean()
        - inside.loc[inside["arm"] == "control", "spend_after"].mean()
    )
    np.testing.assert_allclose(welch["estimate"], difference, rtol=1e-9)
    assert welch["ci_low"] > 0 and welch["p_adjusted"] < 0.01
    assert AuditEvent.objects.filter(action="experiment.analysis_download", actor=consultant).count() == 1
    assert 'id="srm-ok"' in page and "Cochran's Q" in page

    # and the other files say the same: analysis.json as stored, srm.csv as the page, the PDF registered
    stored = json.loads(
        client.get(reverse("experiments:analysis_file", args=[analysis.pk, "analysis.json"])).content
    )
    assert stored == analysis.result and len(stored["effects"]) == len(effects)
    srm = pd.read_csv(
        io.BytesIO(client.get(reverse("experiments:analysis_file", args=[analysis.pk, "srm.csv"])).content)
    )
    assert [
        (str(s), a, f"{n:,}") for s, a, n in srm[["segment", "arm", "observed"]].itertuples(index=False)
    ] == [(a["segment"], a["arm"], cells[3]) for a, cells in table_rows(page, "srm")]
    pdf = client.get(reverse("experiments:analysis_file", args=[analysis.pk, "experiment.pdf"]))
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
    assert pdf.content.startswith(b"%PDF") and b"follows a registered design" in text
    assert AuditEvent.objects.filter(action="experiment.analysis_download", actor=consultant).count() == 4

    # and outcomes without the metric asked for are refused on the form, naming it
    response = analyse(client, experiment, outcomes.drop(columns="visits"), "visits")
    assert response.status_code == 400 and "visits" in response.content.decode().split('id="analyse-form"')[1]
    assert ExperimentAnalysis.objects.count() == 1

    # and a metric the registration does not name is shown exploratory
    analyse(client, experiment, outcomes, "spend_after, visits")
    second = ExperimentAnalysis.objects.latest("id")
    assert second.exploratory
    page = client.get(reverse("experiments:analysis_detail", args=[second.pk])).content.decode()
    assert 'id="exploratory-banner"' in page
    assert "exploratory" in section(page, "visits") and "exploratory" not in section(page, "spend_after")

    # and someone of another project finds none of it
    client.force_login(outsider)
    urls = [
        listing,
        detail,
        *(
            reverse("experiments:experiment_file", args=[experiment.pk, n])
            for n in ("design.json", "assignment.csv")
        ),
        reverse("experiments:analysis_detail", args=[analysis.pk]),
        reverse("experiments:analysis_file", args=[analysis.pk, "effects.csv"]),
    ]
    assert {client.get(u).status_code for u in urls} == {404}
    posts = [
        listing,
        reverse("experiments:experiment_submit", args=[experiment.pk]),
        reverse("experiments:experiment_decide", args=[experiment.pk]),
        reverse("experiments:experiment_analyse", args=[experiment.pk]),
    ]
    assert {client.post(u, {**DESIGN, "action": "register"}).status_code for u in posts} == {404}
    assert not AuditEvent.objects.filter(actor=outsider, project=version.project).exists()


def test_the_design_form_shows_the_engines_refusals_and_who_may_design(
    quick_run, consultant, reviewer, make_user, client
):
    version = quick_run.version
    listing = reverse("experiments:version_experiments", args=[version.pk])
    # given a draft version: no form, and a sentence saying why
    client.force_login(consultant)
    page = client.get(listing).content.decode()
    assert (
        'id="design-form"' not in page
        and "is draft: an experiment is designed on an approved version" in page
    )

    from governance.lifecycle import version_transition

    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="ok", override_reason="checked"
    )

    # when the consultant gives arms, levels or metrics the engine refuses, each shows on the form
    for change, message in (
        ({"arms": "control:1"}, "an experiment needs at least two arms"),
        ({"alpha": "1.5"}, "alpha must lie strictly between 0 and 1, not 1.5"),
        (
            {"metric_kind": "binary", "sd": ""},
            "spend_after is binary, so its baseline is a rate strictly between 0 and 1",
        ),
        ({"covariate": ""}, "rho is the covariate&#x27;s correlation: name the covariate too"),
        ({"guardrails": "complaints:weird:0.1"}, "complaints has kind &#x27;weird&#x27;"),
    ):
        response = client.post(listing, {**DESIGN, **change})
        assert response.status_code == 400, change
        assert message in response.content.decode(), change
    assert not Experiment.objects.exists()

    # and a reviewer reads experiments but does not design them
    client.force_login(reviewer)
    page = client.get(listing).content.decode()
    assert "A reviewer reads experiments" in page and 'id="design-form"' not in page
    assert client.post(listing, DESIGN).status_code == 403

    # and a project administrator who designed and submitted a design cannot register it
    admin = make_user("ada")
    membership_add(project=version.project, user=admin, role=Membership.Role.ADMIN)
    client.force_login(admin)
    client.post(listing, {**DESIGN, "guardrails": "complaints:binary:0.02"})
    experiment = Experiment.objects.get()
    assert experiment.design["guardrails"] == [
        {"name": "complaints", "kind": "binary", "baseline": 0.02, "sd": None, "mde": 0.0}
    ]
    client.post(reverse("experiments:experiment_submit", args=[experiment.pk]))
    response = client.post(
        reverse("experiments:experiment_decide", args=[experiment.pk]), {"action": "register"}, follow=True
    )
    assert "registered by someone other than its author (maker-checker)" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "submitted"

    # and a reviewer rejects it only saying why, after which it can be submitted again
    client.force_login(reviewer)
    decide = reverse("experiments:experiment_decide", args=[experiment.pk])
    response = client.post(decide, {"action": "reject", "reason": " "}, follow=True)
    assert "say why you reject this design" in response.content.decode()
    client.post(decide, {"action": "reject", "reason": "the guardrail baseline is last year's"})
    experiment.refresh_from_db()
    assert experiment.status == "rejected"
    client.force_login(admin)
    page = client.get(reverse("experiments:experiment_detail", args=[experiment.pk])).content.decode()
    assert "the guardrail baseline is last year&#x27;s" in page and 'id="submit-form"' in page

    # and a registration changed behind the platform's back is shown broken and its files withheld
    Experiment.objects.filter(pk=experiment.pk).update(registration={**experiment.registration, "alpha": 0.2})
    page = client.get(reverse("experiments:experiment_detail", args=[experiment.pk])).content.decode()
    assert 'id="registration-broken"' in page
    response = client.get(
        reverse("experiments:experiment_file", args=[experiment.pk, "design.json"]), follow=True
    )
    assert "does not match its hash" in response.content.decode()
    assert "attachment" not in response.get("Content-Disposition", "")
    assert (
        client.get(reverse("experiments:experiment_file", args=[experiment.pk, "labels.csv"])).status_code
        == 404
    )
