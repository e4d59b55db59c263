"""One function checks every bound on the number of segments, with one wording for each."""

from __future__ import annotations

import pytest

from segmentation import SegmentationError, SegmentationSpec, SpecError, check_bounds, segment
from segmentation.spec import MAX_CLUSTERS
from segmentation.synthetic.customers import customer_table


@pytest.mark.parametrize(
    ("bounds", "error", "key", "message"),
    [
        (
            {"k_min": 1, "k_max": 4},
            SpecError,
            "k_min",
            "'k_min' is 1 but a segmentation needs at least 2 segments: set 'k_min' to 2 or more",
        ),
        (
            {"k_min": 5, "k_max": 3},
            SpecError,
            "k_max",
            "'k_max' (3) must not be smaller than 'k_min' (5): raise 'k_max' to at least 5 or lower 'k_min'",
        ),
        (
            {"k_min": 2, "k_max": 31},
            SpecError,
            "k_max",
            "'k_max' is 31 but the engine tries at most 30 segments: lower 'k_max' to 30 or less",
        ),
        (
            {"k_min": 2, "k_max": 7, "customers": 5},
            SegmentationError,
            "k_max",
            "the table has 5 customer(s) but the spec asks for up to 7 segments: "
            "lower 'k_max' to at most 4 or upload more customers",
        ),
        (
            {"k_min": 3, "k_max": 7, "customers": 3},
            SegmentationError,
            "k_max",
            "the table has 3 customer(s) but the spec asks for up to 7 segments: upload at least 4 customers",
        ),
        (
            {"k_min": 2, "k_max": 7, "rows": 5},
            SegmentationError,
            "k_max",
            "The dataset has 5 rows: at most 4 segments. "
            "Lower 'k_max' to at most 4 or upload a table with more rows.",
        ),
        (
            {"k_min": 3, "k_max": 7, "rows": 3},
            SegmentationError,
            "k_max",
            "The dataset has 3 rows: too few for the 3 segments 'k_min' asks for. "
            "Upload a table of at least 4 rows.",
        ),
        (
            {"k_min": 4, "k_max": 6, "customers": 100, "distinct": 4},
            SegmentationError,
            "k_min",
            "the customers have only 4 distinct combination(s) of values, too few to form 4 segments: "
            "lower 'k_min' to at most 3 or add features that tell the customers apart",
        ),
        (
            {"k_min": 2, "k_max": 6, "customers": 100, "distinct": 2},
            SegmentationError,
            "k_min",
            "the customers have only 2 distinct combination(s) of values, too few to form 2 segments: "
            "add features that tell the customers apart",
        ),
    ],
)
def test_each_bound_has_one_message_naming_the_problem_the_fix_and_the_key(bounds, error, key, message):
    with pytest.raises(error) as raised:
        check_bounds(**bounds)
    assert str(raised.value) == message
    assert raised.value.key == key


def test_a_range_the_data_supports_passes():
    check_bounds(k_min=2, k_max=MAX_CLUSTERS, customers=MAX_CLUSTERS + 1, distinct=3)
    check_bounds(k_min=2, k_max=2)


def test_the_spec_checks_its_range_with_the_same_function_and_wording():
    for k_min, k_max in [(1, 4), (5, 3), (2, 31)]:
        with pytest.raises(SpecError) as from_spec:
            SegmentationSpec.from_dict(
                {"id_column": "id", "numeric_columns": ["a"], "k_min": k_min, "k_max": k_max}
            )
        with pytest.raises(SpecError) as direct:
            check_bounds(k_min=k_min, k_max=k_max)
        assert (str(from_spec.value), from_spec.value.key) == (str(direct.value), direct.value.key)


def test_a_spec_checks_the_data_it_is_run_on_as_the_pipeline_does():
    spec = SegmentationSpec.from_dict(
        {"id_column": "customer_id", "numeric_columns": ["recency_days"], "k_max": 7}
    )
    with pytest.raises(SegmentationError) as checked:
        spec.check_bounds(customers=5)
    frame, _ = customer_table(5, seed=1, messy=False)
    with pytest.raises(SegmentationError) as run:
        segment(frame, spec)
    assert str(run.value) == str(checked.value) and run.value.key == "k_max"


def test_the_key_survives_pickling_as_a_worker_sends_errors_back():
    import pickle

    error = pickle.loads(pickle.dumps(SegmentationError("too few", key="k_max")))
    assert (str(error), error.key) == ("too few", "k_max")
    assert SegmentationError("no key").key is None
