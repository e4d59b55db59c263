"""The lattice search finds the least-loss generalisation, and its output meets k, l and t by pycanon."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from pycanon import anonymity

from segmentation import SegmentationError
from segmentation.protection.generalise import generalise, hierarchies_for, level_codes
from segmentation.protection.hierarchy import default_hierarchy, read_hierarchy
from segmentation.protection.lattice import SensitiveCodes, Targets, node_outcome
from segmentation.protection.risk import sensitive_values

from .helpers import ADULT_QUASI_IDENTIFIERS as QI
from .helpers import EDUCATION, MARITAL, adult_like, arx_hierarchy

CASES = [
    (0, {"k": 5}),
    (1, {"k": 5, "sensitive": ["occupation"], "l_distinct": 3}),
    (2, {"k": 3, "sensitive": ["occupation"], "l_entropy": 2.5}),
    (3, {"k": 5, "sensitive": ["hours"], "t": 0.25, "max_suppression": 0.1}),
]


@pytest.fixture
def supplied(tmp_path):
    paths = {"education": EDUCATION, "marital": MARITAL}
    for column, mapping in paths.items():
        (tmp_path / f"{column}.csv").write_text(arx_hierarchy(mapping))
    return {c: read_hierarchy(tmp_path / f"{c}.csv", c) for c in paths}


def exhaustive_least_loss(frame, hierarchies, options):
    """Every node of the lattice measured: the smallest precision loss among the solutions."""
    codes = [level_codes(frame[c], hierarchies[c])[0] for c in QI]
    heights = [len(levels) - 1 for levels in codes]
    sensitive = [SensitiveCodes(*sensitive_values(frame, s)) for s in options.get("sensitive", [])]
    targets = Targets(
        k=options["k"],
        l_distinct=options.get("l_distinct"),
        l_entropy=options.get("l_entropy"),
        t=options.get("t"),
        max_suppression=options.get("max_suppression", 0.05),
    )
    losses = []
    for node in itertools.product(*(range(h + 1) for h in heights)):
        outcome, _ = node_outcome(node, codes, heights, targets, sensitive)
        if outcome is not None:
            losses.append(outcome.precision_loss)
    return min(losses), len(losses)


@pytest.mark.parametrize(("seed", "options"), CASES)
def test_the_search_loses_no_more_than_any_node_of_an_exhaustive_search(seed, options, supplied):
    # given an adult-like table of 2,000 people, every one unique on the six quasi-identifiers
    frame = adult_like(2000, seed=seed)
    frame["hours"] = frame["hours"].astype(int)  # a numeric attribute: t uses the ordered distance
    hierarchies = hierarchies_for(frame, QI, supplied)

    # when the least-loss generalisation is searched for
    result = generalise(frame, QI, hierarchies=supplied, **options)

    # then no node of the lattice that meets the targets loses less
    least, solutions = exhaustive_least_loss(frame, hierarchies, options)
    assert solutions > 1
    assert result.information_loss <= least + 1e-6
    assert result.evaluated_nodes < result.lattice_nodes  # the prunings skipped part of the lattice
    # and the released table meets every target as pycanon measures it
    released, sensitive = result.frame, options.get("sensitive", [])
    assert anonymity.k_anonymity(released, QI) >= options["k"]
    assert result.suppressed_rows <= options.get("max_suppression", 0.05) * len(frame)
    assert len(released) + result.suppressed_rows == len(frame)
    if "l_distinct" in options:
        assert anonymity.l_diversity(released, QI, sensitive) >= options["l_distinct"]
    if "l_entropy" in options:
        assert anonymity.entropy_l_diversity(released, QI, sensitive) >= int(options["l_entropy"])
    if "t" in options:
        assert anonymity.t_closeness(released, QI, sensitive) <= options["t"] + 1e-9
    # and the loss reported is Sweeney's precision of the released cells
    relative = np.mean([result.level_numbers[c] / result.heights[c] for c in QI])
    kept = len(released) / len(frame)
    assert result.information_loss == pytest.approx(relative * kept + (1 - kept), abs=1e-6)
    sizes = released.groupby(QI).size()
    assert result.discernibility == (sizes**2).sum() + result.suppressed_rows * len(frame)


def test_the_released_table_uses_the_supplied_hierarchys_labels(supplied):
    frame = adult_like(2000, seed=4)
    result = generalise(frame, ["sex", "education", "marital"], k=10, hierarchies=supplied)
    assert result.levels["education"] == "level 1"
    assert set(result.frame["education"]) <= set(EDUCATION.values())
    assert set(result.frame["marital"]) <= {*MARITAL, *MARITAL.values(), "*"}


def test_a_hierarchy_lacking_a_value_is_refused_naming_the_value(tmp_path):
    (tmp_path / "education.csv").write_text(arx_hierarchy({"Bachelors": "Undergraduate"}))
    hierarchy = read_hierarchy(tmp_path / "education.csv", "education")
    with pytest.raises(SegmentationError, match=r"education.*no line for \d+ value\(s\).*'10th'"):
        generalise(adult_like(500), ["education"], k=5, hierarchies={"education": hierarchy})


def test_a_file_that_is_not_a_hierarchy_is_refused(tmp_path):
    (tmp_path / "h.csv").write_text("a;x;one;*\nb;x;two;*\n")
    with pytest.raises(SegmentationError, match=r"not a hierarchy: 'x' \(level 1\) leads to both"):
        read_hierarchy(tmp_path / "h.csv", "h")
    (tmp_path / "short.csv").write_text("a;x;*\nb;*\n")
    with pytest.raises(SegmentationError, match=r"line 2 .* same number of levels"):
        read_hierarchy(tmp_path / "short.csv", "h")


def test_default_number_intervals_double_in_width_and_nest():
    ages = pd.Series(np.random.default_rng(5).integers(17, 91, 300)).astype(str)
    hierarchy = default_hierarchy("age", ages, "numeric")
    assert hierarchy.level_names[0] == "exact" and hierarchy.level_names[-1] == "suppressed"
    widths = [float(name.removeprefix("bands of ")) for name in hierarchy.level_names[1:-1]]
    assert widths == [widths[0] * 2**i for i in range(len(widths))]
    for labels in hierarchy.labels.values():
        lows = [float(label.split("-")[0]) for label in labels[1:-1]]
        assert all(low <= int(labels[0]) for low in lows) and labels[-1] == "*"
        assert lows == sorted(lows, reverse=True)  # each interval inside the next one up


def test_a_target_no_generalisation_reaches_is_refused():
    frame = adult_like(300, seed=6)
    with pytest.raises(SegmentationError, match=r"no generalisation reaches k = 2, distinct l = 9"):
        generalise(frame, ["sex", "age"], k=2, sensitive=["occupation"], l_distinct=9)
