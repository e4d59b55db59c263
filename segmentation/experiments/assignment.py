"""Blocked randomisation within segments, by a keyed hash a database can compute too.

Within each segment the customers are put in the order of ``md5(salt + customer_id)`` written as
lowercase hex (ties, which only identical ids could make, by the id itself), both compared
character by character as Python compares strings, which is the bytewise order of their UTF-8
text. The arms are then dealt in that order by the block pattern: arm ``i`` repeated ``ratio_i``
times, the arms in the order given, so ``control:1,treatment:2`` deals
``control, treatment, treatment, control, ...``. Each segment therefore matches the planned
shares to within one block, and the assignment depends on nothing but the salt and the ids:
:func:`segmentation.experiments.sql.compile_assignment` repeats it in SQL.

Noise customers (segment ``-1``) are a segment like any other here: they are assigned within
their own blocks, so they take part in the experiment in the planned shares too.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .arms import Arm

ASSIGNMENT_COLUMNS = ("customer_id", "segment", "arm")


def default_salt(version_hash: str, seed: int) -> str:
    """The first 16 hex digits of ``sha256(f"{version_hash}:{seed}")``."""
    return hashlib.sha256(f"{version_hash}:{seed}".encode()).hexdigest()[:16]


def block_pattern(arms: tuple[Arm, ...]) -> list[str]:
    """Each arm's name ``ratio`` times, the arms in order: one block of the deal."""
    names = [a.name for a in arms]
    if len(arms) < 2 or len(set(names)) != len(names) or any(a.ratio < 1 for a in arms):
        raise SegmentationError(
            "an experiment needs at least two arms with distinct names and ratios of at least 1", key="arms"
        )
    return [a.name for a in arms for _ in range(int(a.ratio))]


def assignment_keys(customer_ids: pd.Series, salt: str) -> list[str]:
    """``md5(salt + customer_id)`` in lowercase hex for each id (UTF-8 text)."""
    return [hashlib.md5((salt + c).encode("utf-8")).hexdigest() for c in customer_ids]


def assign(labels: pd.DataFrame, arms: tuple[Arm, ...], *, salt: str) -> pd.DataFrame:
    """Each customer's arm: ``customer_id``, ``segment``, ``arm``, sorted by segment and position.

    ``labels``: one row per customer, ``customer_id`` (text; other types are written as text)
    and ``segment`` (int, ``-1`` for noise, which is assigned like any segment). Ids must be
    unique: two rows with one id would share a position, and no database could repeat which
    came first.
    """
    pattern = block_pattern(arms)
    missing = [c for c in ("customer_id", "segment") if c not in labels.columns]
    if missing:
        raise SegmentationError(f"the labels have no column {', '.join(missing)}")
    if labels.empty:
        raise SegmentationError("there are no customers to assign: the labels are empty")
    ids = labels["customer_id"].astype(str)
    if labels["customer_id"].isna().any():
        raise SegmentationError("some customers have no customer_id; every customer needs one")
    if ids.duplicated().any():
        raise SegmentationError(
            f"customer_id {ids[ids.duplicated()].iloc[0]!r} appears more than once; each customer "
            "is assigned once, so ids must be unique"
        )
    try:
        segments = labels["segment"].astype(np.int64)
    except (TypeError, ValueError):
        raise SegmentationError("segment must be a whole number for every customer (-1 for noise)") from None
    keys = np.array(assignment_keys(ids, salt), dtype="S32")  # ASCII hex: bytes order is str order
    segment_values = segments.to_numpy()
    order = np.lexsort((keys, segment_values))
    tied = (np.diff(segment_values[order]) == 0) & (keys[order][1:] == keys[order][:-1])
    if tied.any():  # an MD5 collision between two ids: the ids decide, in Python's string order
        by_id = pd.DataFrame({"segment": segment_values, "key": keys, "id": ids.to_numpy(dtype=object)})
        order = by_id.sort_values(["segment", "key", "id"], kind="stable").index.to_numpy()
    frame = pd.DataFrame({"customer_id": ids.to_numpy(dtype=object)[order], "segment": segment_values[order]})
    position = frame.groupby("segment", sort=False).cumcount().to_numpy()
    deal = np.asarray(pattern, dtype=object)
    frame["arm"] = deal[position % len(pattern)]
    return frame[list(ASSIGNMENT_COLUMNS)]
