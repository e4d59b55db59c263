"""k-anonymity, l-diversity and t-closeness against pycanon, and generalisation to a target k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity

from segmentation.protection import risk as privacy
from segmentation.protection.generalise import generalise


def table(seed: int, n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(30, 34, n),
            "gender": rng.choice(["F", "M"], n),
            "postcode": rng.choice(["2000", "2001", "2193"], n),
            "diagnosis": rng.choice(["flu", "asthma", "diabetes", "none"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "income_band": rng.integers(1, 6, n),
        }
    )


QI = ["age", "gender", "postcode"]
CASES = [
    (seed, sa) for seed in (1, 2, 3) for sa in (["diagnosis"], ["income_band"], ["diagnosis", "income_band"])
]


@pytest.mark.parametrize(("seed", "sensitive"), CASES)
def test_every_measure_equals_pycanon(seed, sensitive):
    frame = table(seed)
    assert privacy.k_anonymity(frame, QI) == anonymity.k_anonymity(frame, QI)
    assert privacy.l_diversity(frame, QI, sensitive) == anonymity.l_diversity(frame, QI, sensitive)
    assert privacy.entropy_l_diversity(frame, QI, sensitive) == anonymity.entropy_l_diversity(
        frame, QI, sensitive
    )
    assert privacy.t_closeness(frame, QI, sensitive) == pytest.approx(
        anonymity.t_closeness(frame, QI, sensitive), abs=1e-12
    )


def test_measures_equal_pycanon_on_a_table_that_is_already_anonymous():
    # given a coarse table where every class is large and diverse
    frame = table(7, n=600)[["gender", "diagnosis", "income_band"]]
    qi, sa = ["gender"], ["diagnosis"]
    assert privacy.k_anonymity(frame, qi) == anonymity.k_anonymity(frame, qi) > 200
    assert privacy.l_diversity(frame, qi, sa) == anonymity.l_diversity(frame, qi, sa) == 4
    assert privacy.entropy_l_diversity(frame, qi, sa) == anonymity.entropy_l_diversity(frame, qi, sa)
    assert privacy.t_closeness(frame, qi, sa) == pytest.approx(anonymity.t_closeness(frame, qi, sa))


def test_class_size_distribution_counts_classes_by_size():
    frame = pd.DataFrame({"a": ["x", "x", "y", "z", "z", "z"]})
    assert privacy.class_size_distribution(frame, ["a"]) == {1: 1, 2: 1, 3: 1}


def test_quasi_identifiers_are_suggested_from_column_names():
    columns = ["customer_id", "Age", "date_of_birth", "postcode", "gender", "avg_basket", "usage"]
    assert privacy.suggest_quasi_identifiers(columns) == ["Age", "date_of_birth", "postcode", "gender"]


def people(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n).astype(str),
            "gender": rng.choice(["F", "M", "X"], n, p=[0.49, 0.49, 0.02]),
            "postcode": rng.integers(1000, 9999, n).astype(str),
            "birth_date": pd.Series(pd.date_range("1950-01-01", periods=n, freq="13D")).dt.strftime(
                "%Y-%m-%d"
            ),
            "spend": rng.normal(size=n),
        }
    )


@pytest.mark.parametrize("k", [3, 5, 10])
def test_generalisation_reaches_the_target_k_and_reports_what_it_did(k):
    frame = people()
    qi = ["age", "gender", "postcode", "birth_date"]
    assert privacy.k_anonymity(frame, qi) == 1

    result = generalise(frame, qi, k=k, max_suppression=0.05)

    assert result.achieved_k >= k
    assert privacy.k_anonymity(result.frame, qi) >= k
    assert anonymity.k_anonymity(result.frame, qi) >= k
    assert len(result.frame) + result.suppressed_rows == len(frame)
    assert result.suppressed_rows <= 0.05 * len(frame)
    assert set(result.levels) == set(qi)
    assert result.frame["spend"].notna().all()  # other columns pass through


def test_generalisation_prefers_coarsening_to_removing_a_column():
    # given ages alone, bands suffice: suppressing the column would lose more
    frame = people()[["age", "spend"]]
    result = generalise(frame, ["age"], k=5, max_suppression=0.0)
    assert result.levels["age"].startswith("bands of")
    assert result.frame["age"].str.contains("-").all()


def test_postcodes_are_truncated_to_a_prefix():
    frame = people()[["postcode", "spend"]]
    result = generalise(frame, ["postcode"], k=5, max_suppression=0.02)
    assert result.levels["postcode"].startswith("first")
    assert result.frame["postcode"].str.endswith("*").all()


@pytest.mark.parametrize("sensitive", [["income_band"], ["diagnosis", "income_band"]])
def test_a_numeric_attribute_read_as_text_is_measured_as_numbers(sensitive):
    # given the table as a CSV delivers it (every cell text) and as a Parquet file does (typed),
    # with a blank income band in each
    typed = table(5)
    typed["income_band"] = typed["income_band"].astype("Int64")
    typed.loc[3, "income_band"] = pd.NA
    text = typed.astype("string")
    # then both are measured alike, in numeric order (the ordered distance for t)
    for measure in (privacy.l_diversity, privacy.entropy_l_diversity_exact, privacy.t_closeness):
        assert measure(text, QI, sensitive) == pytest.approx(measure(typed, QI, sensitive), abs=1e-12)
    complete = table(5)
    assert privacy.t_closeness(complete.astype(str), QI, sensitive) == pytest.approx(
        anonymity.t_closeness(complete, QI, sensitive), abs=1e-12
    )
