"""A whole design: design.json, its reading back, and the files a user downloads."""

from __future__ import annotations

import json
from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from segmentation.errors import SegmentationError
from segmentation.experiments import (
    DesignSpec,
    Metric,
    assign,
    balance_table,
    default_salt,
    design,
    design_from_dict,
    parse_arms,
    power_table,
    write_design,
)

from .awkward import awkward_labels

SPEC = DesignSpec(
    arms=parse_arms("control:1,offer:2"),
    primary=Metric("converted", "binary", baseline=0.2, mde=0.08),
    guardrails=(Metric("spend", "continuous", baseline=40.0, sd=15.0),),
    seed=4,
    hypotheses="The offer raises conversion in every segment.",
    analysis_plan="Two-sided z-test per segment, Holm across segments.",
    covariate="spend_before",
    rho=0.5,
)


@pytest.fixture(scope="module")
def inputs():
    labels = awkward_labels(1_500)
    rng = np.random.default_rng(5)
    labels.loc[labels.segment == 4, "segment"] = 3  # segment 4 folded away...
    labels.loc[labels.index[:30], "segment"] = 9  # ...and a tiny segment 9
    covariates = pd.DataFrame(
        {
            "customer_id": labels.customer_id,
            "spend_before": rng.gamma(2, 20, len(labels)),
            "tier": rng.choice(["gold", "silver"], len(labels)),
        }
    )
    return labels, covariates


@pytest.fixture(scope="module")
def result(inputs):
    labels, covariates = inputs
    return design(labels, SPEC, version_hash="c0ffee", covariates=covariates)


def test_the_design_is_the_assignment_balance_and_power_of_its_parts(inputs, result):
    labels, covariates = inputs
    salt = default_salt("c0ffee", 4)
    assert result.salt == salt
    assert result.assignment.equals(assign(labels, SPEC.arms, salt=salt))
    assert result.balance.equals(balance_table(result.assignment, covariates, arms=SPEC.arms))
    counts = pd.crosstab(result.assignment.segment, result.assignment.arm)[["control", "offer"]]
    expected = power_table(
        SPEC.primary,
        counts.rename_axis(columns=None).reset_index(),
        alpha=0.05,
        power=0.8,
        arms=SPEC.arms,
        rho=0.5,
    )
    pd.testing.assert_frame_equal(result.power, expected)


def test_design_json_says_what_was_planned(result):
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["format"] == "segplatform.design/1" and data["version_hash"] == "c0ffee"
    assert data["arms"] == [{"name": "control", "ratio": 1}, {"name": "offer", "ratio": 2}]
    assert data["primary"] == {
        "name": "converted",
        "kind": "binary",
        "baseline": 0.2,
        "sd": None,
        "mde": 0.08,
    }
    assert data["guardrails"][0]["name"] == "spend"
    assert (data["alpha"], data["power"], data["seed"], data["salt"]) == (
        0.05,
        0.8,
        4,
        default_salt("c0ffee", 4),
    )
    assert data["hypotheses"] == SPEC.hypotheses and data["analysis_plan"] == SPEC.analysis_plan
    assert data["covariate"] == "spend_before"
    assert data["cuped"] == {"rho": 0.5, "variance_reduction": pytest.approx(0.75)}
    assert data["customers"] == 1_500
    counted = result.assignment.groupby(["segment", "arm"]).size()
    assert [c["segment"] for c in data["counts"]] == [-1, 0, 1, 2, 3, 9]
    for entry in data["counts"]:
        assert entry["arms"] == {a: int(counted.get((entry["segment"], a), 0)) for a in ("control", "offer")}
        assert entry["customers"] == sum(entry["arms"].values())
    assert [(r["segment"], r["arm"]) for r in data["power_rows"]] == [
        (s, "offer") for s in [-1, 0, 1, 2, 3, 9, "all"]
    ]
    assert len(data["balance_rows"]) == 7 * 3  # spend_before, tier=gold, tier=silver by 6 segments and all
    assert data["flagged_balance"] == int(result.balance.flagged.sum())
    unreadable = [r["segment"] for r in data["power_rows"] if not r["readable"] and r["segment"] != "all"]
    assert data["segments_too_small"] == unreadable and 9 in unreadable


def test_design_json_reads_back_as_the_spec_with_its_salt(result):
    data = json.loads(json.dumps(result.to_dict()))
    assert design_from_dict(data) == replace(SPEC, salt=result.salt)
    with pytest.raises(SegmentationError, match=r"design\.json: metric 'x' has no kind"):
        design_from_dict({**data, "primary": {"name": "x"}})
    with pytest.raises(SegmentationError, match=r"design\.json has no 'arms'"):
        design_from_dict({k: v for k, v in data.items() if k != "arms"})
    with pytest.raises(SegmentationError, match="metric it cannot read"):
        design_from_dict({**data, "primary": "converted"})
    with pytest.raises(SegmentationError, match="at least two arms"):
        design_from_dict({**data, "arms": [{"name": "control", "ratio": 1}]})


def test_the_written_files_repeat_the_assignment(inputs, result, tmp_path):
    labels, _ = inputs
    paths = write_design(result, tmp_path / "design")
    assert [p.name for p in paths] == [
        "design.json",
        "assignment.csv",
        "balance.csv",
        "assignment_postgresql.sql",
        "assignment_duckdb.sql",
    ]
    assert json.loads(paths[0].read_text()) == json.loads(json.dumps(result.to_dict()))
    csv = pd.read_csv(paths[1], dtype={"customer_id": str}, keep_default_na=False)
    assert list(csv.itertuples(index=False, name=None)) == list(
        result.assignment.itertuples(index=False, name=None)
    )
    balance = pd.read_csv(paths[2])
    assert list(balance.columns) == list(result.balance.columns) and len(balance) == len(result.balance)
    connection = duckdb.connect()
    connection.register("scored", labels)
    rows = connection.execute(paths[4].read_text()).fetchall()
    assert rows == list(csv.itertuples(index=False, name=None))


def test_a_design_without_covariates_has_no_balance_rows(inputs):
    labels, _ = inputs
    plain = design(labels, replace(SPEC, covariate=None, rho=None), version_hash="c0ffee")
    data = plain.to_dict()
    assert data["balance_rows"] == [] and data["flagged_balance"] == 0 and data["cuped"] is None
    assert "achieved_power_cuped" not in plain.power.columns


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alpha": 1.5}, "alpha must lie strictly between 0 and 1"),
        ({"power": 0.0}, "power must lie strictly between 0 and 1"),
        ({"primary": Metric("converted", "binary", 0.2, mde=0.0)}, "must be a positive difference"),
        ({"primary": Metric("converted", "binary", 1.0, mde=0.1)}, "strictly between 0 and 1"),
        ({"primary": Metric("spend", "continuous", 40.0, mde=2.0)}, "needs a positive standard deviation"),
        ({"guardrails": (Metric("g", "continuous", 1.0),)}, "g is continuous and needs a positive standard"),
        ({"guardrails": (Metric("converted", "binary", 0.3),)}, "its own name"),
        ({"rho": 1.2}, "between -1 and 1"),
        ({"covariate": None}, "name the covariate"),
    ],
)
def test_bad_specs_are_refused_with_a_clear_message(inputs, change, message):
    labels, _ = inputs
    with pytest.raises(SegmentationError, match=message):
        design(labels, replace(SPEC, **change), version_hash="c0ffee")


def test_a_version_without_customers_is_refused():
    with pytest.raises(SegmentationError, match="no customers"):
        design(pd.DataFrame({"customer_id": [], "segment": []}), SPEC, version_hash="c0ffee")


def test_design_json_power_is_statsmodels_to_the_last_digit(result):
    effect = proportion_effectsize(0.28, 0.2)
    for row in json.loads(json.dumps(result.to_dict()))["power_rows"]:
        reference = NormalIndPower().power(
            effect, nobs1=row["n_control"], alpha=0.05, ratio=row["n_treatment"] / row["n_control"]
        )
        np.testing.assert_allclose(row["achieved_power"], reference, rtol=1e-10)
        assert row["readable"] == (reference >= 0.8)
