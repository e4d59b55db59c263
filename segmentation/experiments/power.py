"""Sample sizes and power of a two-arm comparison, per segment, by statsmodels' normal power tools.

Every test is two-sided at level ``alpha``. A binary metric's effect size is Cohen's h,
``proportion_effectsize(baseline + mde, baseline)``; a continuous metric's is ``mde / sd``.
Both are compared with :class:`statsmodels.stats.power.NormalIndPower`, whose ``ratio`` is the
treatment arm's size over the control arm's. ``mde`` is absolute: a difference in rate or mean.

CUPED (adjusting the metric by a pre-period covariate with correlation ``rho``) leaves the
effect the same and multiplies the metric's variance by ``1 - rho**2``
(:func:`cuped_reduction`); :func:`power_table` shows the power with that variance when it is
given ``rho``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from ..errors import SegmentationError
from .arms import Arm

KINDS = ("binary", "continuous")
POWER_COLUMNS = (
    "segment",
    "arm",
    "n_control",
    "n_treatment",
    "required_control",
    "required_treatment",
    "achieved_power",
    "readable",
)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # "binary" | "continuous"
    baseline: float  # rate (binary) or mean (continuous) in the control arm
    sd: float | None = None  # continuous only
    mde: float = 0.0  # minimum detectable effect, absolute (difference in rate or mean)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_metric(metric: Metric, *, needs_mde: bool = True) -> None:
    """Raise a :class:`SegmentationError` naming what is wrong with ``metric``.

    ``needs_mde``: the metric's sample size is planned (the primary metric); a guardrail is only
    watched, so it may leave ``mde`` at 0.
    """
    name = metric.name or "the metric"
    if metric.kind not in KINDS:
        raise SegmentationError(
            f"{name} has kind {metric.kind!r}; a metric is {' or '.join(KINDS)}", key="metrics"
        )
    if not math.isfinite(metric.baseline):
        raise SegmentationError(f"{name} needs a finite baseline", key="metrics")
    if not math.isfinite(metric.mde) or metric.mde < 0 or (needs_mde and metric.mde == 0):
        raise SegmentationError(
            f"{name} has minimum detectable effect {metric.mde}; it must be a positive difference "
            f"in {'rate' if metric.kind == 'binary' else 'mean'}",
            key="metrics",
        )
    if metric.kind == "binary":
        if not 0 < metric.baseline < 1:
            raise SegmentationError(
                f"{name} is binary, so its baseline is a rate strictly between 0 and 1, not {metric.baseline}",
                key="metrics",
            )
        if metric.baseline + metric.mde > 1:
            raise SegmentationError(
                f"{name}: baseline {metric.baseline} plus minimum detectable effect {metric.mde} "
                "is a rate above 1",
                key="metrics",
            )
        if metric.sd is not None:
            raise SegmentationError(
                f"{name} is binary: its spread follows from the rate, so leave sd empty", key="metrics"
            )
    elif metric.sd is None or not math.isfinite(metric.sd) or metric.sd <= 0:
        raise SegmentationError(
            f"{name} is continuous and needs a positive standard deviation (sd) in the control arm",
            key="metrics",
        )


def check_levels(alpha: float, power: float) -> None:
    if not 0 < alpha < 1:
        raise SegmentationError(f"alpha must lie strictly between 0 and 1, not {alpha}", key="alpha")
    if not 0 < power < 1:
        raise SegmentationError(f"power must lie strictly between 0 and 1, not {power}", key="power")


def cuped_reduction(rho: float) -> float:
    """``1 - rho**2``: the factor CUPED multiplies the metric's variance by, with a covariate of
    correlation ``rho`` (``design.json``'s ``variance_reduction``)."""
    if not -1 <= rho <= 1:
        raise SegmentationError(f"a correlation rho lies between -1 and 1, not {rho}", key="rho")
    return float(1 - rho**2)


def effect_size(metric: Metric, *, rho: float | None = None) -> float:
    """The standardised effect the test sees (Cohen's h, or mde / sd), with CUPED's variance if
    ``rho`` is given (|rho| = 1 leaves no variance: the effect is infinite)."""
    check_metric(metric)
    if metric.kind == "binary":
        size = float(proportion_effectsize(metric.baseline + metric.mde, metric.baseline))
    else:
        assert metric.sd is not None
        size = metric.mde / metric.sd
    if rho is not None:
        left = cuped_reduction(rho)
        size = size / math.sqrt(left) if left > 0 else math.inf
    return size


def required_per_arm(metric: Metric, *, ratio: float, alpha: float, power: float) -> tuple[int, int]:
    """Customers needed in the control arm and the treatment arm (``ratio`` times as many),
    each rounded up, for a two-sided test at ``alpha`` to reach ``power``."""
    check_levels(alpha, power)
    if not (math.isfinite(ratio) and ratio > 0):
        raise SegmentationError(f"the arms' ratio must be a positive number, not {ratio}", key="arms")
    n = float(
        NormalIndPower().solve_power(
            effect_size(metric), nobs1=None, alpha=alpha, power=power, ratio=ratio, alternative="two-sided"
        )
    )
    return math.ceil(n), math.ceil(n * ratio)


def achieved_power(
    metric: Metric, *, n_control: int, n_treatment: int, alpha: float, rho: float | None = None
) -> float:
    """The power of a two-sided test at ``alpha`` with these arm sizes; 0 when an arm is empty
    (nothing can be compared). ``rho``: with CUPED's variance."""
    if not 0 < alpha < 1:
        raise SegmentationError(f"alpha must lie strictly between 0 and 1, not {alpha}", key="alpha")
    size = effect_size(metric, rho=rho)
    if n_control <= 0 or n_treatment <= 0:
        return 0.0
    if math.isinf(size):
        return 1.0
    return float(
        NormalIndPower().power(
            size, nobs1=n_control, alpha=alpha, ratio=n_treatment / n_control, alternative="two-sided"
        )
    )


def power_table(
    metric: Metric,
    counts: pd.DataFrame,
    *,
    alpha: float,
    power: float,
    arms: tuple[Arm, ...] | None = None,
    rho: float | None = None,
) -> pd.DataFrame:
    """Each segment's sizes, the sizes needed and the power reached, control against each other arm.

    ``counts``: a column ``segment`` and one column of customers per arm, the control first (as
    ``pd.crosstab(assignment.segment, assignment.arm)`` with its index reset). A row ``segment
    "all"`` (every segment together) is added unless ``counts`` has it. The sizes needed use the
    planned ratio of the two arms (``arms``' weights; without them, the ratio of the arms' totals).
    ``readable``: the power reached is at least ``power``. With ``rho`` a column
    ``achieved_power_cuped`` gives the power with CUPED's variance.
    """
    check_metric(metric)
    check_levels(alpha, power)
    if "segment" not in counts.columns:
        raise SegmentationError("the counts need a column segment and one column per arm")
    names = [str(c) for c in counts.columns if c != "segment"]
    if arms is not None:
        missing = [a.name for a in arms if a.name not in counts.columns]
        if missing:
            raise SegmentationError(f"the counts have no column for arm(s) {', '.join(missing)}")
        names = [a.name for a in arms]
    if len(names) < 2:
        raise SegmentationError("the counts need a column per arm, at least a control and a treatment")
    table = counts[["segment", *names]].copy()
    if not (table["segment"].astype(str) == "all").any():
        total = pd.DataFrame([{"segment": "all", **{n: int(table[n].sum()) for n in names}}])
        table = pd.concat([table.astype({"segment": object}), total], ignore_index=True)
    control = names[0]
    rows = []
    for k, name in enumerate(names[1:], start=1):
        if arms is not None:
            ratio = arms[k].ratio / arms[0].ratio
        else:
            totals = table[table["segment"].astype(str) != "all"][[control, name]].sum()
            ratio = float(totals[name] / totals[control]) if totals[control] > 0 else 1.0
            ratio = ratio if ratio > 0 else 1.0
        need_control, need_treatment = required_per_arm(metric, ratio=ratio, alpha=alpha, power=power)
        for segment, n_control, n_treatment in zip(
            table["segment"], table[control], table[name], strict=True
        ):
            reached = achieved_power(
                metric, n_control=int(n_control), n_treatment=int(n_treatment), alpha=alpha
            )
            row = {
                "segment": segment if str(segment) == "all" else int(segment),
                "arm": name,
                "n_control": int(n_control),
                "n_treatment": int(n_treatment),
                "required_control": need_control,
                "required_treatment": need_treatment,
                "achieved_power": reached,
                "readable": bool(reached >= power),
            }
            if rho is not None:
                row["achieved_power_cuped"] = achieved_power(
                    metric, n_control=int(n_control), n_treatment=int(n_treatment), alpha=alpha, rho=rho
                )
            rows.append(row)
    columns = [*POWER_COLUMNS, *(["achieved_power_cuped"] if rho is not None else [])]
    frame = pd.DataFrame(rows, columns=columns)
    frame["readable"] = frame["readable"].astype(bool)
    frame["achieved_power"] = frame["achieved_power"].astype(np.float64)
    return frame
