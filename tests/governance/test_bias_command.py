"""``manage.py segment`` with protected columns writes bias.csv and bias.json, stored with the version."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError
from fairlearn.metrics import demographic_parity_difference

from governance.models import BiasAudit
from segmentation.synthetic.customers import customer_table
from tests.governance.helpers import segment_folder
from tests.projects.helpers import NUMERIC


def write_inputs(tmp_path, protected):  # type: ignore[no-untyped-def]
    frame, _ = customer_table(300, seed=2)
    frame["gender"] = np.random.default_rng(1).choice(["F", "M"], len(frame))
    source = tmp_path / "customers.csv"
    frame.to_csv(source, index=False)
    spec = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 2,
        "k_max": 3,
        "protected_columns": protected,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    return frame


def test_segment_writes_the_bias_audit_against_fairlearn(db, tmp_path):
    frame = write_inputs(tmp_path, ["gender", "region"])
    out = segment_folder(tmp_path)

    bias = pd.read_csv(out / "bias.csv")
    assert list(bias.columns[:7]) == [
        "attribute",
        "segment",
        "group",
        "group_size",
        "segment_share",
        "demographic_parity_difference",
        "demographic_parity_ratio",
    ]
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    merged = labels.merge(frame, on="customer_id")
    for (attribute, segment), rows in bias.groupby(["attribute", "segment"]):
        member = (merged["segment"] == segment).astype(int)
        expected = demographic_parity_difference(member, member, sensitive_features=merged[attribute])
        assert rows["demographic_parity_difference"].iloc[0] == pytest.approx(expected)
    assert set(bias["attribute"]) == {"gender", "region"}
    findings = json.loads((out / "bias.json").read_text())
    assert findings["findings"] and "proxies" in findings
    assert "bias.csv" in json.loads((out / "manifest.json").read_text())["files"]
    audit = BiasAudit.objects.get()
    assert audit.protected_columns == ["gender", "region"]
    assert "gender" not in audit.version.model.get("features", [])


def test_segment_without_protected_columns_writes_no_bias_files(db, tmp_path):
    write_inputs(tmp_path, [])
    out = segment_folder(tmp_path)
    assert not (out / "bias.csv").exists()


def test_a_protected_column_cannot_also_be_a_feature(db, tmp_path):
    write_inputs(tmp_path, ["avg_basket"])
    with pytest.raises(CommandError, match="protected attributes are never features"):
        segment_folder(tmp_path, out="o")
