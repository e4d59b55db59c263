"""``manage.py monitor``: a version segmented on the command line, monitored on current data.

The current table holds the same customers a little later, with one feature shifted: the command
must write the four files of its contract, with figures equal to scipy's on the same columns and
counts equal to the labels the version delivered.
"""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from scipy import stats

from audit.models import AuditEvent
from segmentation import read_csv_bytes
from tests.segmentation.monitoring.planted import FEATURES, population

pytestmark = pytest.mark.django_db
SPEC = {
    "id_column": "customer_id",
    "numeric_columns": FEATURES,
    "k_min": 2,
    "k_max": 4,
    "stability_resamples": 0,
}


@pytest.fixture
def segmented(tmp_path):  # type: ignore[no-untyped-def]
    reference = population(500, seed=0).drop(columns="planted")
    (tmp_path / "reference.csv").write_text(reference.to_csv(index=False))
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    call_command(
        "segment",
        str(tmp_path / "reference.csv"),
        spec=str(tmp_path / "spec.json"),
        out=str(tmp_path / "seg"),
    )
    manifest = json.loads((tmp_path / "seg" / "manifest.json").read_text())
    return reference, manifest["version_id"], tmp_path


def test_the_command_writes_the_contracts_files_with_scipys_figures(segmented):
    reference, version_id, folder = segmented
    current = reference.copy()
    current["tenure"] = current["tenure"] + 1.2  # the same customers, one feature shifted
    current.to_csv(folder / "current.csv", index=False)
    call_command("monitor", str(folder / "current.csv"), version=version_id, out=str(folder / "mon"))

    drift = json.loads((folder / "mon" / "drift.json").read_text())
    assert {"features", "segment_shares", "overall_level"} <= set(drift)
    by_feature = {f["feature"]: f for f in drift["features"]}
    assert set(by_feature) == set(FEATURES)
    for f in drift["features"]:
        assert {"feature", "test", "statistic", "p_value", "psi", "level"} <= set(f)
    ks = stats.ks_2samp(reference["tenure"], current["tenure"])
    assert by_feature["tenure"]["test"] == "ks"
    assert by_feature["tenure"]["statistic"] == pytest.approx(ks.statistic, abs=1e-6)
    assert by_feature["tenure"]["level"] == "drift"
    assert [by_feature[f]["level"] for f in ("spend", "visits", "basket")] == [
        "none"
    ] * 3  # identical columns
    assert drift["overall_level"] == "drift"

    labels = read_csv_bytes((folder / "seg" / "labels.csv").read_bytes())
    shares = pd.read_csv(folder / "mon" / "segment_shares.csv")
    delivered = labels["segment"].astype(int).value_counts().sort_index()
    assert shares.set_index("segment")["reference_customers"].to_dict() == delivered.to_dict()
    assert shares["current_customers"].sum() == len(current)

    migration = pd.read_csv(folder / "mon" / "migration.csv").set_index("reference_segment")
    assert int(migration.to_numpy().sum()) == len(current)  # every customer is in both
    assert drift["migration"]["customers_in_both"] == len(current)
    stayed = sum(
        int(migration.loc[s, f"current_{s}"]) for s in migration.index if f"current_{s}" in migration
    )
    assert drift["migration"]["moved_share"] == pytest.approx(1 - stayed / len(current), abs=1e-6)

    pdf = (folder / "mon" / "monitoring.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert f"Monitoring of {version_id}" in text and "tenure" in text
    assert AuditEvent.objects.filter(action="version.monitor").count() == 1


def test_the_same_data_again_is_no_drift(segmented):
    reference, version_id, folder = segmented
    later = reference.copy()
    rng = np.random.default_rng(1)
    later[FEATURES] += rng.normal(0, 0.02, (len(later), len(FEATURES)))
    later.to_csv(folder / "later.csv", index=False)
    call_command("monitor", str(folder / "later.csv"), version=version_id, out=str(folder / "mon"))
    drift = json.loads((folder / "mon" / "drift.json").read_text())
    assert drift["overall_level"] == "none", drift["levels"]


def test_a_wrong_version_or_a_table_without_the_models_columns_is_a_clear_message(segmented):
    reference, version_id, folder = segmented
    reference.drop(columns="tenure").to_csv(folder / "narrow.csv", index=False)
    with pytest.raises(CommandError, match="has no version v99"):
        call_command("monitor", str(folder / "narrow.csv"), version="v99", out=str(folder / "mon"))
    expected = "'narrow.csv' cannot be compared with v1: column(s) not found in the data: tenure"
    with pytest.raises(CommandError, match=re.escape(expected)):
        call_command("monitor", str(folder / "narrow.csv"), version=version_id, out=str(folder / "mon"))
    assert not (folder / "mon").exists()
