"""Balance of the arms on the customers' covariates: standardised mean differences by segment.

For each segment (and ``"all"``, every customer together), each covariate and each arm other than
the control, ``smd = (mean_arm - mean_control) / sqrt((var_arm + var_control) / 2)`` with sample
variances (``ddof=1``), missing values left out. It is 0 when both variances are 0 and the means
are equal, infinite (and flagged) when they are 0 and the means differ, and missing (not flagged)
when an arm has fewer than two values. ``flagged``: ``|smd| > 0.1``, the usual bound for a
difference worth a look.

Numeric (and boolean) covariates are used as they are; any other column is one-hot encoded by
level, a covariate ``"col=level"`` per level (levels in sorted order; a missing value is in
no level); a text column with more than :data:`MAX_LEVELS` levels is refused. Columns named
``segment`` or ``arm`` are not covariates and are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .arms import Arm

SMD_FLAG = 0.1
MAX_LEVELS = 50  # a text column with more levels is an identifier or free text, not a covariate
NOT_COVARIATES = ("customer_id", "segment", "arm")
BALANCE_COLUMNS = ("segment", "covariate", "arm", "mean_control", "mean_arm", "smd", "flagged")


def covariate_matrix(covariates: pd.DataFrame) -> pd.DataFrame:
    """The covariates as floats, indexed by customer_id; text columns one-hot by level."""
    if "customer_id" not in covariates.columns:
        raise SegmentationError("the covariates need a customer_id column to match the customers")
    ids = covariates["customer_id"].astype(str)
    if ids.duplicated().any():
        raise SegmentationError(
            f"customer_id {ids[ids.duplicated()].iloc[0]!r} has more than one row of covariates"
        )
    columns: dict[str, np.ndarray] = {}
    for name in covariates.columns:
        if name in NOT_COVARIATES:
            continue
        values = covariates[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            columns[str(name)] = values.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        present = values.dropna().astype(str)
        if present.nunique() > MAX_LEVELS:
            raise SegmentationError(
                f"covariate {name!r} has {present.nunique()} distinct values; balance is checked on "
                f"numbers or on categories with at most {MAX_LEVELS} levels, so leave it out",
                key="covariates",
            )
        text = values.astype(str).where(values.notna())
        for level in sorted(present.unique()):
            columns[f"{name}={level}"] = (text == level).to_numpy(dtype=np.float64)
    return pd.DataFrame(columns, index=pd.Index(ids.to_numpy(dtype=object), name="customer_id"))


def smd(arm: np.ndarray, control: np.ndarray) -> tuple[float, float, float]:
    """``(mean_control, mean_arm, smd)`` of two samples, missing values left out."""
    arm, control = arm[~np.isnan(arm)], control[~np.isnan(control)]
    mean_arm = float(arm.mean()) if len(arm) else np.nan
    mean_control = float(control.mean()) if len(control) else np.nan
    if len(arm) < 2 or len(control) < 2:
        return mean_control, mean_arm, np.nan
    pooled = float(np.sqrt((arm.var(ddof=1) + control.var(ddof=1)) / 2))
    difference = mean_arm - mean_control
    if pooled == 0:
        return mean_control, mean_arm, 0.0 if difference == 0 else float(np.copysign(np.inf, difference))
    return mean_control, mean_arm, difference / pooled


def balance_table(
    assignment: pd.DataFrame, covariates: pd.DataFrame, *, arms: tuple[Arm, ...] | None = None
) -> pd.DataFrame:
    """The balance rows (:data:`BALANCE_COLUMNS`), segments in order then ``"all"``.

    ``assignment``: :func:`~segmentation.experiments.assignment.assign`'s output. The control is
    ``arms[0]``; without ``arms``, the arms are taken in the order they first appear, which in
    ``assign``'s output is the order given (the first position of a segment is the control's).
    Customers without covariates are left out of every mean.
    """
    if assignment.empty:
        raise SegmentationError("there is no assignment to check: no customers")
    names = [a.name for a in arms] if arms is not None else list(pd.unique(assignment["arm"]))
    matrix = covariate_matrix(covariates)
    joined = matrix.reindex(assignment["customer_id"].astype(str).to_numpy())
    values = joined.to_numpy(dtype=np.float64)
    arm = assignment["arm"].to_numpy()
    segment = assignment["segment"].to_numpy()
    groups: list[tuple[object, np.ndarray]] = [(int(s), segment == s) for s in np.unique(segment)]
    groups.append(("all", np.ones(len(assignment), dtype=bool)))
    rows = []
    for label, inside in groups:
        control = inside & (arm == names[0])
        for j, covariate in enumerate(matrix.columns):
            for name in names[1:]:
                mean_control, mean_arm, d = smd(values[inside & (arm == name), j], values[control, j])
                rows.append(
                    {
                        "segment": label,
                        "covariate": covariate,
                        "arm": name,
                        "mean_control": mean_control,
                        "mean_arm": mean_arm,
                        "smd": d,
                        "flagged": bool(abs(d) > SMD_FLAG) if not np.isnan(d) else False,
                    }
                )
    frame = pd.DataFrame(rows, columns=list(BALANCE_COLUMNS))
    frame["flagged"] = frame["flagged"].astype(bool)
    return frame
