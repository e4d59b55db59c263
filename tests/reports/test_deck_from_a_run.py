"""A real ``manage.py segment`` run: the deck and the report present its stored governance records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from reports.sections import rule_sentence
from segmentation.synthetic.customers import customer_table
from tests.governance.helpers import segment_folder
from tests.projects.helpers import NUMERIC
from tests.reports.helpers import pdf_text, slide_texts


def test_segment_with_protected_columns_puts_the_audit_in_the_deck(db, tmp_path):
    # given a customer table with a protected attribute declared in the spec
    frame, _ = customer_table(300, seed=2)
    frame["gender"] = np.random.default_rng(1).choice(["F", "M"], len(frame))
    frame.to_csv(tmp_path / "customers.csv", index=False)
    spec = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 3,
        "protected_columns": ["gender"],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))

    # when the command segments it
    out = segment_folder(tmp_path)

    # then the deck's bias slide names the attribute, and every segment slide its name and rule
    slides = slide_texts(out / "deck.pptx")
    assert "gender" in slides["Bias audit"]
    assert "No protected attributes declared" not in slides["Bias audit"]
    assert "Draft when this document was built" in slides["Version and approval status"]
    profile = pd.read_csv(out / "profile.csv")
    rules = json.loads((out / "rules.json").read_text())["rules"]
    pdf = pdf_text(str(out / "report.pdf"))
    for _, row in profile.iterrows():
        largest = max((r for r in rules if r["segment"] == row["segment"]), key=lambda r: r["support"])
        assert row["name"] in slides, row["name"]
        assert rule_sentence(largest) in slides[row["name"]]
        assert row["name"] in pdf and rule_sentence(largest) in pdf
    assert "gender" in pdf.split("Bias audit")[-1]
