"""``manage.py experiment design|analyse``: a version segmented on the command line, its customers
assigned to arms within segments, then outcomes with a planted effect in one segment analysed.

The files of the contract are checked against what a user would verify: balanced arms in every
segment, the DuckDB script giving assignment.csv exactly, Welch estimates equal to statsmodels' on
the same customers, and a PDF that says the analysis is exploratory (nothing was registered).
"""

from __future__ import annotations

import json
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from audit.models import AuditEvent
from segmentation import read_csv_bytes
from tests.segmentation.monitoring.planted import FEATURES, population

pytestmark = pytest.mark.django_db
SPEC = {
    "id_column": "customer_id",
    "numeric_columns": FEATURES,
    "k_min": 3,
    "k_max": 3,
    "stability_resamples": 0,
}
EFFECT = 4.0


@pytest.fixture
def designed(tmp_path):  # type: ignore[no-untyped-def]
    reference = population(900, seed=1).drop(columns="planted")
    (tmp_path / "reference.csv").write_text(reference.to_csv(index=False))
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    call_command(
        "segment",
        str(tmp_path / "reference.csv"),
        spec=str(tmp_path / "spec.json"),
        out=str(tmp_path / "seg"),
    )
    version_id = json.loads((tmp_path / "seg" / "manifest.json").read_text())["version_id"]
    call_command(
        "experiment",
        "design",
        version=version_id,
        arms="control:1,treatment:1",
        seed=0,
        out=str(tmp_path / "design"),
        metric="spend_after",
        kind="continuous",
        baseline=10.0,
        sd=3.0,
        mde=1.0,
    )
    return reference, tmp_path


def test_design_writes_balanced_arms_and_a_script_that_repeats_them(designed):
    reference, folder = designed
    out = folder / "design"
    assert {p.name for p in out.iterdir()} >= {
        "design.json",
        "assignment.csv",
        "balance.csv",
        "assignment_postgresql.sql",
        "assignment_duckdb.sql",
    }
    assignment = pd.read_csv(out / "assignment.csv", dtype={"customer_id": str})
    assert list(assignment.columns) == ["customer_id", "segment", "arm"]
    labels = read_csv_bytes((folder / "seg" / "labels.csv").read_bytes())
    assert len(assignment) == len(labels) == len(reference)
    merged = assignment.merge(
        labels[["customer_id", "segment"]].astype({"customer_id": str}), on="customer_id"
    )
    assert (merged["segment_x"] == merged["segment_y"].astype(int)).all()  # the version's own segments
    counts = pd.crosstab(assignment["segment"], assignment["arm"])
    assert ((counts["control"] - counts["treatment"]).abs() <= 1).all()  # balanced within every segment

    scored = assignment[["customer_id", "segment"]]  # what the client's scorer gives, in their database
    repeated = duckdb.sql((out / "assignment_duckdb.sql").read_text().rstrip().rstrip(";")).df()
    pd.testing.assert_frame_equal(
        repeated.sort_values("customer_id")
        .reset_index(drop=True)[["customer_id", "segment", "arm"]]
        .astype({"segment": "int64"}),
        assignment.sort_values("customer_id").reset_index(drop=True).astype({"segment": "int64"}),
    )
    del scored
    design = json.loads((out / "design.json").read_text())
    assert design["version_status"] == "draft" and design["primary"]["name"] == "spend_after"
    assert {r["segment"] for r in design["power_rows"]} >= {"all"}
    assert AuditEvent.objects.filter(action="experiment.design").count() == 1


def test_analyse_finds_the_planted_effect_where_it_was_and_equals_statsmodels(designed):
    _, folder = designed
    assignment = pd.read_csv(folder / "design" / "assignment.csv", dtype={"customer_id": str})
    rng = np.random.default_rng(3)
    outcomes = assignment[["customer_id"]].copy()
    treated_in_zero = (assignment["arm"] == "treatment") & (assignment["segment"] == 0)
    outcomes["spend_after"] = rng.normal(10.0, 3.0, len(outcomes)) + np.where(treated_in_zero, EFFECT, 0.0)
    outcomes.to_csv(folder / "outcomes.csv", index=False)
    call_command(
        "experiment",
        "analyse",
        str(folder / "design" / "design.json"),
        str(folder / "outcomes.csv"),
        metric=["spend_after"],
        out=str(folder / "analysis"),
    )
    effects = pd.read_csv(folder / "analysis" / "effects.csv")
    assert list(effects.columns[:11]) == [
        "segment",
        "metric",
        "arm",
        "method",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
        "n_control",
        "n_treatment",
    ]
    welch = effects[effects["method"] == "welch_t"].set_index("segment")
    joined = assignment.merge(outcomes, on="customer_id")
    for segment, rows in joined.groupby("segment"):
        treated = rows.loc[rows["arm"] == "treatment", "spend_after"]
        control = rows.loc[rows["arm"] == "control", "spend_after"]
        compare = CompareMeans(DescrStatsW(treated.to_numpy()), DescrStatsW(control.to_numpy()))
        _, p, _ = compare.ttest_ind(usevar="unequal")
        low, high = compare.tconfint_diff(alpha=0.05, usevar="unequal")
        row = welch.loc[str(segment)]
        np.testing.assert_allclose(
            [row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]],
            [treated.mean() - control.mean(), low, high, p],
            rtol=1e-9,
        )
        assert row["p_adjusted"] >= row["p_value"]
    assert welch.loc["0", "p_adjusted"] < 0.001 and welch.loc["0", "ci_low"] > 0  # the planted effect
    assert "all" in set(effects["segment"].astype(str))
    srm = pd.read_csv(folder / "analysis" / "srm.csv")
    assert not srm["flagged"].any()  # the arms are as designed
    text = subprocess.run(
        ["pdftotext", str(folder / "analysis" / "experiment.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "exploratory" in text and "Effects by segment" in text


@pytest.mark.parametrize(
    ("arms", "message"),
    [("control:1", "at least two arms"), ("control:1,treatment:x", "ratio")],
)
def test_bad_arms_are_refused_with_what_to_write(designed, arms, message):
    _, folder = designed
    version_id = json.loads((folder / "seg" / "manifest.json").read_text())["version_id"]
    with pytest.raises(CommandError, match=message):
        call_command("experiment", "design", version=version_id, arms=arms, out=str(folder / "bad"))


def test_an_outcome_column_that_is_not_there_is_named(designed):
    _, folder = designed
    assignment = pd.read_csv(folder / "design" / "assignment.csv", dtype={"customer_id": str})
    assignment[["customer_id"]].assign(other=1.0).to_csv(folder / "outcomes.csv", index=False)
    with pytest.raises(CommandError, match="spend_after"):
        call_command(
            "experiment",
            "analyse",
            str(folder / "design" / "design.json"),
            str(folder / "outcomes.csv"),
            metric=["spend_after"],
            out=str(folder / "analysis"),
        )
