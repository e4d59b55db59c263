"""The lifecycle feature groups of a log, beside the aggregates of :mod:`segmentation.data.features`.

- ``clv``: each customer's ``p_alive``, ``expected_purchases_<H>`` and ``clv_<H>`` from the
  BG/NBD and Gamma-Gamma models (:mod:`.clv`), with the models' ``metrics.json`` entry. They are
  predictions of a fitted model, not measurements: they are profiled and delivered but never
  clustered on, so a segment is never defined by a model's guess and the SQL scorers, which
  cannot evaluate the hypergeometric function of the purchase model, still label exactly.
- ``trajectory``: the shape of each customer's activity per period (:mod:`.trajectory`),
  clustered like any other feature: time-aware segments with the same validation as the rest.

A group asked for by name that the log cannot support is an error; a group the default brings
is skipped with the reason, like the data's own groups.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .clv import clv_for_log
from .trajectory import TRAJECTORY_COLUMNS, trajectory_features

LIFECYCLE_GROUPS = ("clv", "trajectory")
PERIOD_ALIASES = {"month": "M", "week": "W", "quarter": "Q"}


@dataclass(frozen=True)
class LifecycleFeatures:
    """``frame``: ``customer_id`` plus the columns of the groups computed, one row a customer."""

    frame: pd.DataFrame
    groups: tuple[str, ...]
    clustered: tuple[str, ...]  # the trajectory columns
    profiled: tuple[str, ...]  # the clv columns
    skipped: dict[str, str] = field(default_factory=dict)
    clv: dict[str, Any] | None = None  # metrics.json -> clv


def chosen_groups(asked: Sequence[str] | None) -> tuple[str, ...]:
    """The lifecycle groups a spec's ``features`` brings: ``clv`` by default, ``trajectory`` on request."""
    if asked is None:
        return ("clv",)
    return tuple(g for g in LIFECYCLE_GROUPS if g in asked)


def lifecycle_features(
    events: pd.DataFrame,
    *,
    as_of: dt.date,
    asked: Sequence[str] | None,
    horizon_days: int,
    discount_rate: float,
    period: str,
) -> LifecycleFeatures:
    """The lifecycle groups of ``events`` (``customer_id``, ``timestamp``, ``amount``, refunds
    negative) as of ``as_of``; ``asked`` is the spec's ``features`` (None: the default)."""
    groups = chosen_groups(asked)
    frame = pd.DataFrame({"customer_id": pd.Series(dtype=object)})
    done: list[str] = []
    skipped: dict[str, str] = {}
    clustered: tuple[str, ...] = ()
    profiled: tuple[str, ...] = ()
    clv_metrics = None
    if "clv" in groups:
        try:
            values, clv_metrics = _clv(events, as_of, horizon_days, discount_rate)
        except SegmentationError as error:
            if asked is not None:
                raise SegmentationError(f"the 'clv' feature group cannot be computed: {error}") from None
            skipped["clv"] = str(error)
        else:
            frame = frame.merge(values, on="customer_id", how="outer")
            profiled = tuple(c for c in values.columns if c != "customer_id")
            done.append("clv")
    if "trajectory" in groups:
        values = trajectory_features(events, as_of=as_of, period=period)
        values["customer_id"] = np.asarray(values["customer_id"], dtype=object)
        frame = frame.merge(values, on="customer_id", how="outer")
        clustered = tuple(c for c in TRAJECTORY_COLUMNS if c in values.columns)
        done.append("trajectory")
    return LifecycleFeatures(
        frame=frame,
        groups=tuple(done),
        clustered=clustered,
        profiled=profiled,
        skipped=skipped,
        clv=clv_metrics,
    )


def _clv(
    events: pd.DataFrame, as_of: dt.date, horizon_days: int, discount_rate: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    values, metrics = clv_for_log(events, as_of, horizon_days, discount_rate)
    values["customer_id"] = np.asarray(values["customer_id"], dtype=object)
    return values, metrics
