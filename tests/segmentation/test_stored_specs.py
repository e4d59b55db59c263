"""Every spec a version has stored reads back through SegmentationSpec, with the same dict.

The platform stores ``spec.to_dict()`` of the engine of the day; these are their shapes, from
the foundation's five keys to the keys added since. Reading one must neither fail nor move its
version hash.
"""

from __future__ import annotations

import ast
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from segmentation import SegmentationSpec, version_hash

FOUNDATION = {
    "id_column": "customer_id",
    "numeric_columns": ["spend", "visits"],
    "k_min": 2,
    "k_max": 6,
    "random_state": 0,
}
STORED = [
    pytest.param(FOUNDATION, id="foundation"),
    pytest.param(
        {**FOUNDATION, "algorithms": ["kmeans", "agglomerative"], "stability_resamples": 5}, id="sweep"
    ),
    pytest.param(
        {
            "id_column": "customer",
            "numeric_columns": [],
            "k_min": 2,
            "k_max": 5,
            "random_state": 3,
            "input_kind": "transactions",
            "timestamp_column": "ts",
            "amount_column": "amount",
            "category_column": "category",
            "as_of": "2024-06-30",
            "features": ["rfm", "affinity"],
            "drop_duplicates": True,
        },
        id="transaction-log",
    ),
    pytest.param(
        {
            **FOUNDATION,
            "categorical_columns": ["region"],
            "protected_columns": ["gender"],
            "outcome_columns": ["churned"],
            "algorithms": ["kprototypes"],
        },
        id="roles",
    ),
    pytest.param({**FOUNDATION, "reduction": "pca", "distance": "mahalanobis"}, id="space"),
    pytest.param(
        {**FOUNDATION, "distance": "cosine", "transforms": {"spend": "log1p"}}, id="cosine-transforms"
    ),
    pytest.param(
        {**FOUNDATION, "reduction": "umap", "selection": "silhouette", "dp_epsilon": 0.5}, id="umap-dp"
    ),
    pytest.param(
        {
            **FOUNDATION,
            "reduction": "none",
            "transforms": {"spend": "log1p"},
            "default_transform": "zscore",
        },
        id="resolved-field-defaults",
    ),
]


@pytest.mark.parametrize("stored", STORED)
def test_a_stored_spec_reads_back_to_the_same_dict_and_hash(stored):
    spec = SegmentationSpec.from_dict(stored)
    assert spec.to_dict() == stored
    assert version_hash(spec=spec.to_dict(), model_sha256="m", data_sha256="d") == version_hash(
        spec=stored, model_sha256="m", data_sha256="d"
    )


def test_keys_a_stored_spec_lacks_read_as_their_defaults():
    spec = SegmentationSpec.from_dict({"id_column": "id", "numeric_columns": ["a"]})
    defaults = {f.name: f.default for f in fields(SegmentationSpec) if f.default is not MISSING}
    assert {name: getattr(spec, name) for name in defaults if name != "numeric_columns"} == {
        name: value for name, value in defaults.items() if name != "numeric_columns"
    }


def test_every_key_but_the_id_column_is_a_field_with_a_default():
    without = [
        f.name for f in fields(SegmentationSpec) if f.default is MISSING and f.default_factory is MISSING
    ]
    assert without == ["id_column"]


def test_the_engine_reads_its_spec_through_attributes_not_getattr_with_a_default():
    engine = Path(__file__).resolve().parents[2] / "segmentation"
    found = []
    for path in sorted(engine.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Name | ast.Attribute)
                and ast.unparse(node.args[0]) in ("spec", "self.spec", "parsed", "requested")
            ):
                found.append(f"{path.relative_to(engine)}:{node.lineno}")
    assert found == []
