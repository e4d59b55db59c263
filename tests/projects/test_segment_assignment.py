"""``manage.py segment`` delivers each algorithm's own assignment: noise for density winners,
memberships for mixtures, categories for mixed-type winners; the SQL scorers agree label for label."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from pypdf import PdfReader
from sklearn.datasets import make_moons

from tests.projects.helpers import labels_of, score_in_postgresql, score_in_sqlite, typed_customers

pytestmark = pytest.mark.django_db


def run(tmp_path, frame: pd.DataFrame, **spec):  # type: ignore[no-untyped-def]
    data, spec_file, out = tmp_path / "customers.csv", tmp_path / "spec.json", tmp_path / "out"
    frame.to_csv(data, index=False)
    spec_file.write_text(json.dumps({"id_column": "customer_id", "stability_resamples": 3, **spec}))
    call_command("segment", str(data), spec=str(spec_file), out=str(out))
    labels = pd.read_csv(out / "labels.csv", dtype={"customer_id": str})
    return out, labels, json.loads((out / "metrics.json").read_text())


def moons_with_an_outlier() -> pd.DataFrame:
    points, _ = make_moons(800, noise=0.05, random_state=4)
    points = np.vstack([points, [[9.0, -7.0]]])
    ids = [f"m{i:04d}" for i in range(len(points))]
    return pd.DataFrame({"customer_id": ids, "spend_axis": points[:, 0], "visit_axis": points[:, 1]})


def test_a_density_winner_leaves_the_outlier_unassigned_in_labels_and_in_every_scorer(tmp_path):
    frame = moons_with_an_outlier()
    numeric = ["spend_axis", "visit_axis"]
    out, labels, metrics = run(
        tmp_path, frame, numeric_columns=numeric, algorithms=["hdbscan"], k_min=2, k_max=2
    )
    selected = metrics["selected"]
    assert selected["algorithm"] == "hdbscan" and "exemplars per segment" in selected["assignment"]
    assert selected["assignment_agreement"] >= 0.97
    by_id = labels.set_index("customer_id")["segment"]
    assert by_id["m0800"] == -1 and set(by_id.drop("m0800")) == {0, 1}
    customers = typed_customers(frame, numeric)
    expected = labels_of(labels)
    sqlite = score_in_sqlite((out / "scorer_sqlite.sql").read_text(), customers)
    assert labels_of(sqlite) == expected
    assert sqlite.set_index("customer_id").loc["m0800", "segment_name"] == "Unassigned"
    postgres = score_in_postgresql((out / "scorer_postgresql.sql").read_text(), customers, numeric)
    assert labels_of(postgres) == expected
    # The report tells the reader how customers are assigned and how many are left out.
    report = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(str(out / "report.pdf")).pages)
    unassigned = int((labels["segment"] == -1).sum())
    assert f"{unassigned} customers ({unassigned / len(labels):.1%}) resemble no segment" in report
    assert "exemplars per segment" in report


def test_a_mixture_winner_writes_each_customers_membership(tmp_path):
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    points = centres[rng.integers(0, 3, 900)] + rng.normal(0, 1.0, (900, 2))
    frame = pd.DataFrame({"customer_id": [f"g{i}" for i in range(900)], "a": points[:, 0], "b": points[:, 1]})
    out, labels, metrics = run(
        tmp_path, frame, numeric_columns=["a", "b"], algorithms=["gmm"], k_min=3, k_max=3
    )
    assert list(labels.columns) == ["customer_id", "segment", "membership"]
    assert labels["membership"].between(1 / 3, 1.0).all()
    summary = metrics["selected"]["memberships"]
    assert summary["mean"] == pytest.approx(labels["membership"].mean(), abs=1e-6)
    # Customers between overlapping components are the uncertain ones the summary counts.
    assert 0 < summary["uncertain_share"] < 0.5
    assert summary["uncertain_share"] == pytest.approx((labels["membership"] < 0.8).mean(), abs=1e-3)
    scored = score_in_sqlite((out / "scorer_sqlite.sql").read_text(), typed_customers(frame, ["a", "b"]))
    assert labels_of(scored) == labels_of(labels)


def test_a_k_prototypes_winner_scores_its_categories_in_sql(tmp_path):
    rng = np.random.default_rng(6)
    truth = rng.integers(0, 3, 600)
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])[truth] + rng.normal(0, 0.6, (600, 2))
    favourite = np.array(["web", "store", "phone"])[truth]
    channel = np.where(rng.random(600) < 0.95, favourite, "phone")
    frame = pd.DataFrame({"customer_id": [f"p{i}" for i in range(600)], "a": points[:, 0], "b": points[:, 1]})
    frame["channel"] = channel
    frame.loc[::40, "channel"] = None
    out, labels, metrics = run(
        tmp_path,
        frame,
        numeric_columns=["a", "b"],
        categorical_columns=["channel"],
        algorithms=["kprototypes"],
        k_min=3,
        k_max=3,
    )
    assert "K-Prototypes' own dissimilarity" in metrics["selected"]["assignment"]
    assert '"channel"' in (out / "scorer_sqlite.sql").read_text()
    customers = typed_customers(frame, ["a", "b"])
    assert labels_of(score_in_sqlite((out / "scorer_sqlite.sql").read_text(), customers)) == labels_of(labels)
    postgres = score_in_postgresql((out / "scorer_postgresql.sql").read_text(), customers, ["a", "b"])
    assert labels_of(postgres) == labels_of(labels)
