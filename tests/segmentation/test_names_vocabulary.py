"""Segment names: readable labels, only measured behaviours, the client's industry, no repeats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.explain.names import archetype, readable
from segmentation.explain.profile import profile_segments
from segmentation.explain.vocabulary import INDUSTRIES, VOCABULARIES


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("MonthlyCharges", "monthly charges"),
        ("SeniorCitizen", "senior citizen"),
        ("avg_basket", "avg basket"),
        ("CLV", "CLV"),
        ("totalSpend90d", "total spend90d"),
        ("recency-days", "recency days"),
    ],
)
def test_column_names_read_as_words(column, words):
    assert readable(column) == words


def test_a_name_never_claims_a_behaviour_no_feature_measured():
    # High spend and long tenure, no frequency feature at all: not "occasional" anything.
    smd = pd.Series({"MonthlyCharges": 1.2, "tenure": 0.9})
    retail = archetype(smd, "retail")
    assert "occasional" not in retail.lower()
    assert archetype(smd, "subscription") == "Long-tenure, high-bill subscribers"
    only_money = pd.Series({"MonthlyCharges": 1.2, "SeniorCitizen": 0.1})
    assert archetype(only_money, "retail") == "High monthly charges"


def test_every_vocabulary_names_every_behaviour_and_no_telecom_name_is_retail():
    keys = set(VOCABULARIES["generic"])
    for industry in INDUSTRIES:
        assert set(VOCABULARIES[industry]) == keys, industry
    retail_words = ("buyer", "purchase", "basket", "checkout", "spender")
    for name, actions in VOCABULARIES["subscription"].values():
        text = " ".join([name, *actions]).lower()
        assert not any(word in text for word in retail_words), name


def _two_lookalike_new_groups() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    labels = np.repeat([0, 1, 2], [100, 100, 200])
    tenure = np.where(labels < 2, rng.normal(3, 1, n), rng.normal(40, 5, n))
    recency = rng.normal(20, 5, n)
    charges = np.where(
        labels == 0, rng.normal(90, 5, n), np.where(labels == 1, rng.normal(30, 5, n), rng.normal(60, 5, n))
    )
    values = pd.DataFrame({"tenure_months": tenure, "recency_days": recency, "MonthlyCharges": charges})
    return values, labels


def test_segments_sharing_a_name_are_told_apart_by_what_differs():
    values, labels = _two_lookalike_new_groups()
    profile = profile_segments(values, None, labels, 3, industry="subscription")
    names = list(profile["name"])
    assert len(set(names)) == 3 and not any(name.endswith(")") for name in names)
    assert names[0] == "New subscribers, higher monthly charges"
    assert names[1] == "New subscribers, lower monthly charges"
    # The actions are the archetype's, in the industry's words.
    assert profile["actions"][0].startswith("Onboarding check-in")


def test_the_spec_carries_the_industry_and_refuses_an_unknown_one():
    from segmentation import SegmentationSpec, SpecError

    spec = SegmentationSpec.from_dict(
        {"id_column": "id", "numeric_columns": ["x"], "industry": "subscription"}
    )
    assert spec.to_dict()["industry"] == "subscription"
    assert (
        "industry" not in SegmentationSpec.from_dict({"id_column": "id", "numeric_columns": ["x"]}).to_dict()
    )
    with pytest.raises(SpecError, match="'industry' must be one of"):
        SegmentationSpec.from_dict({"id_column": "id", "numeric_columns": ["x"], "industry": "mining"})


def test_a_missingness_flag_names_the_behaviour_not_the_flag():
    from segmentation.explain.names import trait_name

    smd = pd.Series({"momentum_missing": 1.6, "interval_missing": -1.1, "tenure_days": 0.1})
    assert trait_name(smd) == "No spend in 180 days, repeat buyers"
    assert trait_name(pd.Series({"interval_missing": 2.0})) == "Mostly single purchases"
