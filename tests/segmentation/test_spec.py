from __future__ import annotations

import pytest

from segmentation import SegmentationSpec, SpecError

VALID = {"id_column": "customer_id", "numeric_columns": ["a", "b"], "k_min": 2, "k_max": 6, "random_state": 1}


def test_a_valid_spec_round_trips():
    assert SegmentationSpec.from_dict(VALID).to_dict() == VALID


def test_defaults_fill_optional_keys():
    spec = SegmentationSpec.from_dict({"id_column": "id", "numeric_columns": ["a"]})
    assert (spec.k_min, spec.k_max, spec.random_state) == (2, 8, 0)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"colour": "blue"}, "colour"),
        ({"k_min": "2"}, "'k_min'"),
        ({"k_max": 3.5}, "'k_max'"),
        ({"random_state": True}, "'random_state'"),
        ({"numeric_columns": "a,b"}, "'numeric_columns'"),
        ({"numeric_columns": []}, "'numeric_columns'"),
        ({"id_column": 7}, "'id_column'"),
        ({"k_min": 1}, "'k_min'"),
        ({"k_min": 5, "k_max": 3}, "'k_max'"),
        ({"numeric_columns": ["customer_id"]}, "'customer_id'"),
    ],
)
def test_it_refuses_a_bad_spec_naming_the_key(change, named):
    with pytest.raises(SpecError) as error:
        SegmentationSpec.from_dict({**VALID, "id_column": "customer_id", **change})
    assert named in str(error.value)


def test_it_names_a_missing_required_key():
    with pytest.raises(SpecError, match="numeric_columns"):
        SegmentationSpec.from_dict({"id_column": "id"})
