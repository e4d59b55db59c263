"""``manage.py privacy_report`` prints a readable report and writes the JSON contract."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from pycanon import anonymity


def test_it_prints_and_writes_k_l_t_matching_pycanon(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "customer_id": range(300),
            "age": rng.integers(30, 33, 300),
            "gender": rng.choice(["F", "M"], 300),
            "plan": rng.choice(["basic", "plus", "pro"], 300),
        }
    )
    source = tmp_path / "customers.csv"
    frame.to_csv(source, index=False)
    out, target = StringIO(), tmp_path / "report.json"

    call_command(
        "privacy_report",
        str(source),
        "--quasi-identifiers",
        "age,gender",
        "--sensitive",
        "plan",
        "--json",
        str(target),
        stdout=out,
    )

    text = out.getvalue()
    assert "k-anonymity:" in text and "t-closeness:" in text
    report = json.loads(target.read_text())
    qi, sa = ["age", "gender"], ["plan"]
    assert report["k_anonymity"] == anonymity.k_anonymity(frame, qi)
    assert report["l_diversity"] == anonymity.l_diversity(frame, qi, sa)
    assert report["entropy_l_diversity"] == anonymity.entropy_l_diversity(frame, qi, sa)
    assert report["t_closeness"] == pytest.approx(anonymity.t_closeness(frame, qi, sa))
    assert sum(report["class_size_distribution"].values()) == report["equivalence_classes"]


def test_it_generalises_to_a_target_k(tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"id": range(400), "age": rng.integers(18, 90, 400), "x": rng.normal(size=400)})
    source = tmp_path / "c.csv"
    frame.to_csv(source, index=False)
    target = tmp_path / "r.json"
    call_command(
        "privacy_report",
        str(source),
        "--quasi-identifiers",
        "age",
        "--k",
        "10",
        "--json",
        str(target),
        stdout=StringIO(),
    )
    report = json.loads(target.read_text())
    assert report["generalisation"]["achieved_k"] >= 10
    assert report["generalisation"]["after"]["k_anonymity"] >= 10


def test_it_names_a_missing_column(tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("id,age\n1,30\n2,40\n")
    with pytest.raises(CommandError, match=r"no column.*postcode"):
        call_command("privacy_report", str(source), "--quasi-identifiers", "postcode", stdout=StringIO())
