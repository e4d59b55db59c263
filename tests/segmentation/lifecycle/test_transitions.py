"""Segment transitions between two labelings: the counts and matrix equal pandas' crosstab
(normalised by row), predicted shares equal the matrix product, and likely movers are the
customers whose probability of the target passes the threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.lifecycle.transitions import likely_movers, predicted_shares, segment_transitions


def labelings() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(8)
    ids = np.arange(500)
    before = pd.DataFrame({"customer_id": ids, "segment": rng.integers(0, 4, 500)})
    moved = np.where(rng.random(500) < 0.3, rng.integers(0, 4, 500), before["segment"])
    after = pd.DataFrame({"customer_id": ids[20:] + 0, "segment": moved[20:]})
    after = pd.concat([after, pd.DataFrame({"customer_id": [900, 901], "segment": [1, 4]})])
    return before, after.sample(frac=1.0, random_state=1)  # order does not matter


def test_the_matrix_is_the_crosstab_of_the_customers_in_both_normalised_by_row():
    before, after = labelings()
    result = segment_transitions(before, after)
    both = before.merge(after, on="customer_id", suffixes=("_before", "_after"))
    expected = pd.crosstab(both["segment_before"], both["segment_after"])
    counts = result.counts.loc[expected.index, expected.columns]
    np.testing.assert_array_equal(counts.to_numpy(), expected.to_numpy())
    norm = pd.crosstab(both["segment_before"], both["segment_after"], normalize="index")
    np.testing.assert_allclose(result.matrix.loc[norm.index, norm.columns].to_numpy(), norm.to_numpy())
    # segment 4 exists only afterwards: a column of zeros arrivals, no row to leave from
    assert list(result.counts.columns) == [0, 1, 2, 3, 4] and 4 not in result.matrix.index
    assert result.counts[4].sum() == 0
    np.testing.assert_allclose(result.matrix.sum(axis=1), 1.0)
    assert (result.matched, result.only_before, result.only_after) == (480, 20, 2)


def test_predicted_shares_are_the_matrix_product():
    before, after = labelings()
    matrix = segment_transitions(before, after).matrix
    shares = before["segment"].value_counts(normalize=True).sort_index()
    square = np.zeros((5, 5))
    square[:4, :] = matrix.to_numpy()
    square[4, 4] = 1.0
    start = np.append(shares.to_numpy(), 0.0)
    np.testing.assert_allclose(predicted_shares(shares, matrix).to_numpy(), start @ square)
    np.testing.assert_allclose(
        predicted_shares(shares, matrix, steps=3).to_numpy(), start @ np.linalg.matrix_power(square, 3)
    )
    np.testing.assert_allclose(predicted_shares(shares, matrix, steps=0).to_numpy(), start)
    with pytest.raises(SegmentationError, match="No transitions are known from segment 7"):
        predicted_shares(pd.Series({0: 0.5, 7: 0.5}), matrix)


def test_likely_movers_from_a_matrix_and_from_per_customer_probabilities():
    before = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["a", "a", "b", "c"]})
    matrix = pd.DataFrame(
        [[0.3, 0.6, 0.1], [0.1, 0.8, 0.1], [0.5, 0.0, 0.5]], index=list("abc"), columns=list("abc")
    )
    movers = likely_movers(before, matrix, "b", threshold=0.5)
    assert movers["customer_id"].tolist() == [1, 2]  # customer 3 is in b already
    assert movers["probability"].tolist() == [0.6, 0.6]
    per_customer = pd.DataFrame({"customer_id": [1, 2, 3, 4], "dormant": [0.2, 0.7, 0.9, 0.55]})
    movers = likely_movers(before, per_customer, "dormant", threshold=0.5)
    assert movers[["customer_id", "probability"]].values.tolist() == [[3, 0.9], [2, 0.7], [4, 0.55]]
    assert set(movers.columns) == {"customer_id", "segment", "target", "probability"}
    with pytest.raises(SegmentationError, match="Segment z is not in the transition matrix"):
        likely_movers(before, matrix, "z")
    with pytest.raises(SegmentationError, match="threshold is a probability"):
        likely_movers(before, matrix, "b", threshold=1.5)


def test_unusable_labelings_get_a_clear_message():
    before, _ = labelings()
    with pytest.raises(SegmentationError, match="share no customers"):
        segment_transitions(before, pd.DataFrame({"customer_id": [-1], "segment": [0]}))
    with pytest.raises(SegmentationError, match="later labeling has a customer more than once"):
        segment_transitions(before, pd.DataFrame({"customer_id": [1, 1], "segment": [0, 1]}))
    with pytest.raises(SegmentationError, match="earlier labeling needs the columns"):
        segment_transitions(before.rename(columns={"segment": "s"}), before)
