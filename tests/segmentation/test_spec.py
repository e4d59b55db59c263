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


TRANSACTIONS = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "ts",
    "amount_column": "amount",
}


def test_a_foundation_spec_serialises_exactly_as_before_so_its_hash_does_not_move():
    spec = SegmentationSpec.from_dict(VALID)
    assert spec.input_kind == "customers"
    assert spec.to_dict() == VALID
    assert list(spec.to_dict()) == ["id_column", "numeric_columns", "k_min", "k_max", "random_state"]


def test_the_new_keys_have_documented_defaults():
    spec = SegmentationSpec.from_dict({"id_column": "id", "numeric_columns": ["a"]})
    assert spec.input_kind == "customers"
    assert spec.as_of is None and spec.features is None and spec.algorithms is None
    # "auto": the field's defaults decide from the data (segmentation.defaults)
    assert (spec.reduction, spec.selection, spec.stability_resamples) == ("auto", "combined", 20)
    assert spec.drop_duplicates is False and spec.protected_as_features is False
    assert spec.categorical_columns == () and spec.protected_columns == () and spec.outcome_columns == ()
    assert spec.transform_for("a") == "auto"


def test_a_full_spec_round_trips_through_its_dict():
    data = {
        **TRANSACTIONS,
        "numeric_columns": [],
        "k_min": 3,
        "k_max": 9,
        "random_state": 4,
        "amount_column": None,
        "quantity_column": "qty",
        "unit_price_column": "price",
        "category_column": "category",
        "as_of": "2025-01-01",
        "protected_columns": ["gender"],
        "outcome_columns": ["churned"],
        "features": ["rfm", "windows"],
        "algorithms": ["kmeans", "gmm", "hdbscan"],
        "reduction": "pca",
        "selection": "silhouette",
        "stability_resamples": 0,
        "drop_duplicates": True,
        "transforms": {"monetary_total": "log1p", "frequency": "quantile"},
    }
    spec = SegmentationSpec.from_dict(data)
    assert spec.is_transactions and spec.amount_column is None
    assert spec.transforms == (("frequency", "quantile"), ("monetary_total", "log1p"))
    assert spec.transform_for("monetary_total") == "log1p"
    assert SegmentationSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["features"] == ["rfm", "windows"]
    assert "amount_column" not in spec.to_dict()


def test_a_transaction_spec_needs_no_numeric_columns():
    spec = SegmentationSpec.from_dict(TRANSACTIONS)
    assert spec.numeric_columns == ()
    assert spec.referenced_columns() == ("customer_id", "ts", "amount")


def test_a_customer_table_may_be_clustered_on_categorical_columns_alone():
    spec = SegmentationSpec.from_dict({"id_column": "id", "categorical_columns": ["region"]})
    assert spec.numeric_columns == () and spec.categorical_columns == ("region",)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"input_kind": "events"}, "'input_kind'"),
        ({"timestamp_column": None}, "'timestamp_column'"),
        ({"amount_column": None}, "'amount_column'"),
        ({"amount_column": None, "quantity_column": "q"}, "'unit_price_column'"),
        ({"as_of": "01/02/2025"}, "'as_of'"),
        ({"as_of": "2025-02-30"}, "'as_of'"),
        ({"as_of": 20250101}, "'as_of'"),
        ({"features": ["rfm", "vibes"]}, "'features'"),
        ({"features": []}, "'features'"),
        ({"algorithms": ["kmeans", "magic"]}, "'algorithms'"),
        ({"algorithms": "kmeans"}, "'algorithms'"),
        ({"reduction": "tsne"}, "'reduction'"),
        ({"selection": "best"}, "'selection'"),
        ({"stability_resamples": 201}, "'stability_resamples'"),
        ({"stability_resamples": -1}, "'stability_resamples'"),
        ({"drop_duplicates": "yes"}, "'drop_duplicates'"),
        ({"protected_as_features": 1}, "'protected_as_features'"),
        ({"transforms": {"a": "sqrt"}}, "'transforms'"),
        ({"transforms": ["a"]}, "'transforms'"),
        ({"protected_columns": "gender"}, "'protected_columns'"),
        ({"outcome_columns": ["x", "x"]}, "'outcome_columns'"),
        ({"category_column": 3}, "'category_column'"),
        ({"timestamp_column": "customer_id"}, "'timestamp_column'"),
    ],
)
def test_it_refuses_a_bad_transaction_spec_naming_the_field(change, named):
    with pytest.raises(SpecError) as error:
        SegmentationSpec.from_dict({**TRANSACTIONS, **change})
    assert named in str(error.value)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"numeric_columns": ["a", "gender"], "protected_columns": ["gender"]}, "'protected_as_features'"),
        ({"numeric_columns": ["a", "churn"], "outcome_columns": ["churn"]}, "'outcome_columns'"),
        ({"numeric_columns": ["a"], "categorical_columns": ["a"]}, "'categorical_columns'"),
        ({"numeric_columns": ["a"], "timestamp_column": "ts"}, "'timestamp_column'"),
        ({"numeric_columns": ["a"], "categorical_columns": ["customer_id"]}, "'categorical_columns'"),
    ],
)
def test_it_refuses_a_column_in_two_roles_naming_the_field(change, named):
    with pytest.raises(SpecError) as error:
        SegmentationSpec.from_dict({"id_column": "customer_id", **change})
    assert named in str(error.value)


def test_protected_columns_become_features_only_when_the_spec_says_so():
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "id",
            "numeric_columns": ["a", "age"],
            "protected_columns": ["age"],
            "protected_as_features": True,
        }
    )
    assert "age" in spec.numeric_columns and spec.protected_columns == ("age",)


@pytest.mark.parametrize("epsilon", [0, -1, "0.5", True, 11])
def test_it_refuses_a_dp_epsilon_that_is_not_a_small_positive_number(epsilon):
    with pytest.raises(SpecError, match="'dp_epsilon'"):
        SegmentationSpec.from_dict({**VALID, "dp_epsilon": epsilon})


def test_a_dp_epsilon_round_trips_and_its_absence_leaves_the_spec_as_before():
    assert SegmentationSpec.from_dict({**VALID, "dp_epsilon": 0.5}).to_dict()["dp_epsilon"] == 0.5
    assert "dp_epsilon" not in SegmentationSpec.from_dict(VALID).to_dict()


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ([0, 1], "must map column names"),
        ({"nowhere": [0, 1]}, "'nowhere', which is not one of 'numeric_columns'"),
        ({"COLUMN": [5, 5]}, "low below high"),
        ({"COLUMN": [0, "10"]}, "two numbers"),
        ({"COLUMN": [0]}, "two numbers"),
    ],
)
def test_it_refuses_dp_bounds_that_are_not_low_high_pairs_of_numeric_columns(bounds, message):
    column = VALID["numeric_columns"][0]
    bounds = (
        {column if k == "COLUMN" else k: v for k, v in bounds.items()} if isinstance(bounds, dict) else bounds
    )
    with pytest.raises(SpecError, match=message):
        SegmentationSpec.from_dict({**VALID, "dp_bounds": bounds})


def test_dp_bounds_round_trip_and_their_absence_leaves_the_spec_as_before():
    column = VALID["numeric_columns"][0]
    spec = SegmentationSpec.from_dict({**VALID, "dp_bounds": {column: [0, 500]}})
    assert spec.dp_bounds_map == {column: (0.0, 500.0)}
    assert SegmentationSpec.from_dict(spec.to_dict()) == spec
    assert "dp_bounds" not in SegmentationSpec.from_dict(VALID).to_dict()
