"""Blocked assignment within segments: the planned shares to within a block, repeatable by salt,
and independent of the customers' covariates."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmentation.errors import SegmentationError
from segmentation.experiments import assign, default_salt, parse_arms

from .awkward import awkward_labels

ARMS = parse_arms("control:1,email:2,call:3")


def test_default_salt_is_the_head_of_a_sha256():
    assert default_salt("9f2c", 7) == hashlib.sha256(b"9f2c:7").hexdigest()[:16]
    assert len(default_salt("9f2c", 7)) == 16 and default_salt("9f2c", 7) != default_salt("9f2c", 8)


def test_customers_are_dealt_the_block_pattern_in_md5_order_within_each_segment():
    labels = awkward_labels(600)
    result = assign(labels, ARMS, salt="s1")
    assert list(result.columns) == ["customer_id", "segment", "arm"]
    assert sorted(result.customer_id) == sorted(labels.customer_id)  # the same customers, once each
    pattern = ["control", "email", "email", "call", "call", "call"]
    expected = []
    for segment in sorted(labels.segment.unique()):
        ids = labels.customer_id[labels.segment == segment]
        ordered = sorted(ids, key=lambda c: (hashlib.md5(("s1" + c).encode()).hexdigest(), c))
        expected += [(c, int(segment), pattern[p % 6]) for p, c in enumerate(ordered)]
    assert list(result.itertuples(index=False, name=None)) == expected
    assert -1 in set(result.segment)  # noise customers get arms like any segment


def test_each_segment_matches_the_ratio_shares_to_within_one_block():
    labels = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(5_000)], "segment": np.arange(5_000) % 7 - 1}
    )
    result = assign(labels, ARMS, salt="s1")
    counts = pd.crosstab(result.segment, result.arm)
    sizes = labels.segment.value_counts().sort_index()
    for segment, n in sizes.items():
        for arm in ARMS:
            share = n * arm.ratio / 6
            assert abs(counts.loc[segment, arm.name] - share) <= 6
            # exactly: floor(n / 6) full blocks, then the start of one more
            assert counts.loc[segment, arm.name] == (n // 6) * arm.ratio + sum(
                1
                for p in range(n % 6)
                if ["control", "email", "email", "call", "call", "call"][p] == arm.name
            )


def test_the_same_salt_gives_the_same_assignment_and_another_a_different_one():
    labels = awkward_labels(1_000)
    first = assign(labels, ARMS, salt="abc")
    shuffled = labels.sample(frac=1.0, random_state=1)
    assert assign(shuffled, ARMS, salt="abc").equals(first)  # row order of the input does not matter
    other = assign(labels, ARMS, salt="abd")
    merged = first.merge(other, on=["customer_id", "segment"])
    assert len(merged) == 1_000
    changed = (merged.arm_x != merged.arm_y).mean()
    # two independent deals agree with probability sum of squared shares = 14/36
    assert changed == pytest.approx(1 - 14 / 36, abs=0.06)


def test_arms_are_independent_of_covariates_over_many_salts():
    # A covariate that follows the ids' order: an assignment by id would be badly unbalanced.
    n, salts = 1_200, 300
    labels = pd.DataFrame(
        {"customer_id": [f"customer-{i:05d}" for i in range(n)], "segment": np.repeat([0, 1], n // 2)}
    )
    covariate = pd.Series(np.arange(n, dtype=float) ** 1.5, index=labels.customer_id)
    arms = parse_arms("control:1,treatment:1")
    differences = []
    for k in range(salts):
        result = assign(labels, arms, salt=f"salt-{k}")
        x = covariate[result.customer_id].to_numpy()
        treated = (result.arm == "treatment").to_numpy()
        differences.append(x[treated].mean() - x[~treated].mean())
    differences = np.asarray(differences)
    # Randomised within two segments of 600 (300 a side), the difference has mean 0 and the
    # variance of a stratified permutation: the sum over segments of w^2 S^2 (1/300 + 1/300),
    # with w = 1/2 each segment's weight and S^2 its sample variance.
    spread = 0.0
    for segment in (0, 1):
        values = covariate.to_numpy()[labels.segment == segment]
        spread += 0.25 * values.var(ddof=1) * (1 / 300 + 1 / 300)
    assert stats.ttest_1samp(differences, 0.0).pvalue > 0.001
    ratio = differences.var(ddof=1) / spread
    assert 0.7 < ratio < 1.4


def test_labels_that_cannot_be_assigned_are_refused():
    arms = parse_arms("control:1,treatment:1")
    with pytest.raises(SegmentationError, match="'a' appears more than once"):
        assign(pd.DataFrame({"customer_id": ["a", "b", "a"], "segment": [0, 0, 1]}), arms, salt="s")
    with pytest.raises(SegmentationError, match="labels are empty"):
        assign(pd.DataFrame({"customer_id": [], "segment": []}), arms, salt="s")
    with pytest.raises(SegmentationError, match="no column segment"):
        assign(pd.DataFrame({"customer_id": ["a"]}), arms, salt="s")
    with pytest.raises(SegmentationError, match="no customer_id"):
        assign(pd.DataFrame({"customer_id": ["a", None], "segment": [0, 0]}), arms, salt="s")


def test_equal_keys_fall_back_to_the_ids_in_string_order(monkeypatch):
    # Only an MD5 collision could make two keys equal; the ids then decide, bytewise as in SQL.
    from segmentation.experiments import assignment

    monkeypatch.setattr(assignment, "assignment_keys", lambda ids, salt: ["0" * 32] * len(ids))
    labels = pd.DataFrame({"customer_id": ["b", "a", "B", "é", "A", "😀"], "segment": [0, 0, 0, 0, 1, 1]})
    result = assign(labels, parse_arms("control:1,treatment:1"), salt="s")
    assert result.customer_id.tolist() == ["B", "a", "b", "é", "A", "😀"]
    assert result.arm.tolist() == ["control", "treatment", "control", "treatment", "control", "treatment"]
