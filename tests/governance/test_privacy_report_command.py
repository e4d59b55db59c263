"""``manage.py privacy_report`` prints a readable report and writes the JSON contract."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from pycanon import anonymity

from tests.segmentation.helpers import EDUCATION, adult_like, arx_hierarchy


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


def adult_file(tmp_path, n=1000):
    source, hierarchy = tmp_path / "adult.csv", tmp_path / "education.csv"
    adult_like(n, seed=8).to_csv(source, index=False)
    hierarchy.write_text(arx_hierarchy(EDUCATION))
    return source, hierarchy


def test_it_writes_the_generalised_table_and_its_json_agrees_with_pycanon(tmp_path):
    # given an adult-like table and an ARX hierarchy for education
    source, hierarchy = adult_file(tmp_path)
    out, report_path = tmp_path / "generalised.csv", tmp_path / "r.json"
    qi = ["age", "sex", "education", "marital"]

    # when the command generalises it to k = 5 and distinct l = 2 on occupation
    call_command(
        "privacy_report",
        str(source),
        "--quasi-identifiers",
        ",".join(qi),
        "--sensitive",
        "occupation",
        "--k",
        "5",
        "--l",
        "2",
        "--hierarchy",
        f"education={hierarchy}",
        "--out",
        str(out),
        "--json",
        str(report_path),
        stdout=StringIO(),
    )

    # then the released table meets the targets by pycanon, and the JSON says so
    released = pd.read_csv(out, dtype=str)
    after = json.loads(report_path.read_text())["generalisation"]["after"]
    assert after["k_anonymity"] == anonymity.k_anonymity(released, qi) >= 5
    assert after["l_diversity"] == anonymity.l_diversity(released, qi, ["occupation"]) >= 2
    assert after["rows"] == len(released)
    assert set(released["education"]) <= {*EDUCATION, *EDUCATION.values(), "*"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--hierarchy", "education=missing.csv"], r"no hierarchy file .*missing.csv for education"),
        (
            ["--k", "5", "--sensitive", "occupation", "--l", "20"],
            r"no generalisation reaches .* distinct l = 20",
        ),
    ],
)
def test_it_refuses_bad_input_with_exit_code_2(tmp_path, extra, message):
    source, _ = adult_file(tmp_path, n=200)
    with pytest.raises(CommandError, match=message) as refused:
        call_command("privacy_report", str(source), "--quasi-identifiers", "age,education", *extra)
    assert refused.value.returncode == 2


def test_a_missing_file_ends_in_one_line_and_exit_code_2(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "privacy_report", str(missing), "--quasi-identifiers", "age"])
    assert exited.value.code == 2
    message = f"CommandError: no file {missing}: give the path of a CSV, Parquet or XLSX table"
    assert capsys.readouterr().err.strip().splitlines() == [message]
