"""Arms as a user writes them: name:ratio, comma-separated, the control first."""

from __future__ import annotations

import pytest

from segmentation.errors import SegmentationError
from segmentation.experiments import Arm, parse_arms


def test_arms_in_order_with_their_ratios():
    assert parse_arms("control:1,treatment:2") == (Arm("control", 1), Arm("treatment", 2))
    assert parse_arms(" control , new offer:3 ") == (Arm("control", 1), Arm("new offer", 3))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("control:1,treatment:0", "ratio 0; a ratio is a whole number of at least 1"),
        ("control:1,treatment:1.5", "ratio '1.5'; a ratio is a whole number"),
        ("control:1,treatment:x", "ratio 'x'"),
        ("control:1,control:2", "'control' is named twice"),
        ("control:1", "at least two arms"),
        ("", "has no name"),
        ("control:1,:2", "has no name"),
    ],
)
def test_bad_arms_are_refused_with_a_clear_message(text, message):
    with pytest.raises(SegmentationError, match=message) as error:
        parse_arms(text)
    assert error.value.key == "arms"
