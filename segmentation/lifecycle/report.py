"""A segmentation's lifecycle report: cohorts, CLV by segment, lifecycle states and likely movers.

Made after the clustering, from the log and the delivered segments:

- ``cohorts``: the retention triangle and revenue by acquisition period, whole and by segment
  (:mod:`.cohorts`);
- ``clv``: the CLV features (when the ``clv`` group was computed) summed up by segment: mean
  probability alive, expected purchases and CLV, the segment's total CLV and share of it;
- ``states``: the lifecycle HMM (:mod:`.states`) fitted on each customer's activity per complete
  period before ``as_of`` (a partial last period would read as a decline), states named by
  behaviour, the transition matrix, the next period's expected state shares, and each
  segment's mix of current states and mean churn probability;
- ``movers``: customers not dormant now whose probability of being dormant within
  :data:`MOVER_PERIODS` periods is at least :data:`MOVER_THRESHOLD` (more likely than not).

A part that cannot be made (too few customer-periods for the HMM, no dormant state) is None
with the reason under ``skipped``; nothing is named that was not measured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .cohorts import cohort_table
from .features import PERIOD_ALIASES
from .sequences import activity
from .states import Lifecycle, fit_states, next_state_distribution

MOVER_PERIODS = 3
MOVER_THRESHOLD = 0.5
CUSTOMER_COLUMNS = ("customer_id", "segment")
MOVER_COLUMNS = ["customer_id", "segment", "state", "target", "probability"]


@dataclass(frozen=True)
class LifecycleReport:
    """``customers`` is ``clv.csv`` (one row a customer), ``movers`` is ``movers.csv`` and
    ``summary`` is ``lifecycle.json``."""

    customers: pd.DataFrame
    movers: pd.DataFrame
    summary: dict[str, Any]
    skipped: dict[str, str] = field(default_factory=dict)


NOISE_NAME = "Unassigned"


def segment_label(names: dict[int, str], segment: int) -> str:
    """The segment's name; a density method's noise (-1) is no segment."""
    return names.get(segment, NOISE_NAME if segment == -1 else f"Segment {segment}")


def json_ready(value: Any) -> Any:
    """Plain JSON values: NumPy numbers as Python's, a non-finite number as None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def last_complete_period_end(as_of: dt.date, period: str) -> pd.Timestamp:
    """The last instant of the last complete period before ``as_of``."""
    alias = PERIOD_ALIASES[period]
    start = pd.Period(pd.Timestamp(as_of), freq=alias).start_time
    boundary = pd.Timestamp(as_of) if start == pd.Timestamp(as_of) else start
    return boundary - pd.Timedelta(1, "ns")


def lifecycle_report(
    events: pd.DataFrame,
    *,
    as_of: dt.date,
    labels: pd.DataFrame,
    segment_names: list[str],
    features: pd.DataFrame | None,
    clv_columns: tuple[str, ...],
    period: str = "month",
    seed: int = 0,
) -> LifecycleReport:
    """``labels``: ``customer_id``, ``segment`` (delivered numbers); ``features`` the engineered
    features with the ``clv_columns`` (empty when the ``clv`` group was not computed)."""
    skipped: dict[str, str] = {}
    segments = labels[["customer_id", "segment"]].copy()
    segments["customer_id"] = np.asarray(segments["customer_id"], dtype=object)
    names = dict(enumerate(segment_names))

    cohorts = cohort_table(events, as_of, period=period, labels=segments)
    customers = segments.copy()
    clv = None
    if clv_columns and features is not None:
        values = features.set_index(np.asarray(features["customer_id"], dtype=object))[list(clv_columns)]
        for column in clv_columns:
            customers[column] = values[column].reindex(customers["customer_id"]).to_numpy()
        clv = _clv_by_segment(customers, clv_columns, names)

    states: Lifecycle | None = None
    through = last_complete_period_end(as_of, period)
    try:
        _, sequences = activity(events, through, freq=PERIOD_ALIASES[period])
        states = fit_states(sequences, seed=seed)
    except SegmentationError as error:
        skipped["states"] = str(error)
    movers = pd.DataFrame(columns=MOVER_COLUMNS)
    state_summary = None
    if states is not None:
        customers = _with_states(customers, states)
        state_summary = _states_summary(states, customers, names, through, period)
        if states.dormant is None:
            skipped["movers"] = "the lifecycle states have no dormant state to move to"
        else:
            movers = _movers(states, customers)
    elif "states" in skipped:
        skipped["movers"] = "no lifecycle states were fitted"

    summary = json_ready(
        {
            "as_of": as_of.isoformat(),
            "period": period,
            "cohorts": cohorts.to_dict(),
            "clv": clv,
            "states": state_summary,
            "movers": _movers_summary(movers, names),
            "skipped": skipped,
        }
    )
    return LifecycleReport(customers=customers, movers=movers, summary=summary, skipped=skipped)


def _clv_by_segment(
    customers: pd.DataFrame, clv_columns: tuple[str, ...], names: dict[int, str]
) -> dict[str, Any]:
    value = next(c for c in clv_columns if c.startswith("clv_"))
    expected = next(c for c in clv_columns if c.startswith("expected_purchases_"))
    total = float(np.nansum(customers[value].to_numpy(dtype=float)))
    rows = []
    for segment, members in customers.groupby("segment", sort=True):
        segment_total = float(np.nansum(members[value].to_numpy(dtype=float)))
        rows.append(
            {
                "segment": int(segment),
                "name": segment_label(names, int(segment)),
                "customers": len(members),
                "modelled_customers": int(members[value].notna().sum()),
                "p_alive_mean": _mean(members["p_alive"]),
                "expected_purchases_mean": _mean(members[expected]),
                "clv_mean": _mean(members[value]),
                "clv_total": segment_total,
                "clv_share": segment_total / total if total > 0 else None,
            }
        )
    return {
        "horizon_days": int(value.removeprefix("clv_")),
        "value_column": value,
        "total": total,
        "by_segment": rows,
    }


def _mean(values: pd.Series) -> float | None:
    numbers = values.to_numpy(dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    return float(numbers.mean()) if numbers.size else None


def _with_states(customers: pd.DataFrame, states: Lifecycle) -> pd.DataFrame:
    fitted = states.customers.set_index(np.asarray(states.customers["customer_id"], dtype=object))
    out = customers.copy()
    ids = out["customer_id"]
    out["lifecycle_state"] = fitted["state"].reindex(ids).to_numpy()
    out["state_probability"] = fitted["posterior"].reindex(ids).to_numpy()
    out["churn_probability"] = fitted["churn_probability"].reindex(ids).to_numpy()
    if states.dormant is not None:
        out[f"dormant_within_{MOVER_PERIODS}"] = _dormant_within(states).reindex(ids).to_numpy()
    return out


def _dormant_within(states: Lifecycle) -> pd.Series:
    """P(dormant in ``MOVER_PERIODS`` periods), from each customer's current state posterior."""
    names = list(states.names)
    current = states.customers[[f"current_{n}" for n in names]].to_numpy(dtype=float)
    ahead = current @ np.linalg.matrix_power(states.model.transmat, MOVER_PERIODS)
    index = np.asarray(states.customers["customer_id"], dtype=object)
    return pd.Series(ahead[:, names.index("dormant")], index=index)


def _states_summary(
    states: Lifecycle, customers: pd.DataFrame, names: dict[int, str], through: pd.Timestamp, period: str
) -> dict[str, Any]:
    table = states.states.replace({np.nan: None})
    by_segment = []
    for segment, members in customers.groupby("segment", sort=True):
        known = members["lifecycle_state"].dropna()
        shares = known.value_counts(normalize=True)
        by_segment.append(
            {
                "segment": int(segment),
                "name": segment_label(names, int(segment)),
                "current": {n: float(shares.get(n, 0.0)) for n in states.names},
                "churn_probability_mean": _mean(members["churn_probability"]),
            }
        )
    return {
        "through": str(pd.Period(through, freq=PERIOD_ALIASES[period])),
        "names": list(states.names),
        "dormant": states.dormant,
        "bic": {str(k): v for k, v in sorted(states.bic.items())},
        "chosen_states": len(states.names),
        "log_likelihood": states.log_likelihood,
        "fitted_customers": states.fitted_customers,
        "states": table.to_dict(orient="records"),
        "transition_matrix": states.transitions.to_numpy(dtype=float).tolist(),
        "next_period": {n: float(v) for n, v in next_state_distribution(states).items()},
        "by_segment": by_segment,
    }


def _movers(states: Lifecycle, customers: pd.DataFrame) -> pd.DataFrame:
    column = f"dormant_within_{MOVER_PERIODS}"
    chosen = customers.loc[
        (customers["lifecycle_state"] != "dormant")
        & customers["lifecycle_state"].notna()
        & (customers[column] >= MOVER_THRESHOLD)
    ]
    movers = pd.DataFrame(
        {
            "customer_id": chosen["customer_id"].to_numpy(),
            "segment": chosen["segment"].to_numpy(),
            "state": chosen["lifecycle_state"].to_numpy(),
            "target": "dormant",
            "probability": chosen[column].to_numpy(dtype=float),
        },
        columns=MOVER_COLUMNS,
    )
    return movers.sort_values(["probability", "customer_id"], ascending=[False, True]).reset_index(drop=True)


def _movers_summary(movers: pd.DataFrame, names: dict[int, str]) -> dict[str, Any]:
    counts = movers.groupby("segment").size() if len(movers) else pd.Series(dtype=int)
    return {
        "target": "dormant",
        "periods": MOVER_PERIODS,
        "threshold": MOVER_THRESHOLD,
        "customers": len(movers),
        "by_segment": [
            {"segment": int(s), "name": segment_label(names, int(s)), "customers": int(n)}
            for s, n in counts.items()
        ],
    }


def clv_columns(features: pd.DataFrame | None, horizon_days: int) -> tuple[str, ...]:
    """The ``clv`` group's columns present in ``features`` (none when the group was skipped)."""
    names = ("p_alive", f"expected_purchases_{horizon_days}", f"clv_{horizon_days}")
    if features is None or not all(n in features.columns for n in names):
        return ()
    return names


def with_lifecycle_profile(profile: pd.DataFrame, report: LifecycleReport) -> pd.DataFrame:
    """The profile with each segment's predicted figures: ``predicted_p_alive``,
    ``predicted_clv`` (mean CLV over the horizon), ``predicted_clv_share`` and
    ``predicted_churn_probability`` (next period), where they were computed."""
    out = profile.copy()
    clv = report.summary.get("clv")
    if clv:
        rows = {r["segment"]: r for r in clv["by_segment"]}
        out["predicted_p_alive"] = [rows.get(s, {}).get("p_alive_mean") for s in out["segment"]]
        out["predicted_clv"] = [rows.get(s, {}).get("clv_mean") for s in out["segment"]]
        out["predicted_clv_share"] = [rows.get(s, {}).get("clv_share") for s in out["segment"]]
    states = report.summary.get("states")
    if states and states.get("dormant"):
        rows = {r["segment"]: r for r in states["by_segment"]}
        out["predicted_churn_probability"] = [
            rows.get(s, {}).get("churn_probability_mean") for s in out["segment"]
        ]
    return out


def lifecycle_for_segments(
    events: pd.DataFrame,
    features: pd.DataFrame | None,
    labels: pd.DataFrame,
    profile: pd.DataFrame,
    spec: Any,
    *,
    as_of: str,
) -> tuple[LifecycleReport, pd.DataFrame]:
    """The pipeline's step: the report of a log's segments and the profile with its figures.
    ``spec`` is the run's :class:`segmentation.spec.SegmentationSpec`."""
    report = lifecycle_report(
        events,
        as_of=dt.date.fromisoformat(as_of),
        labels=labels,
        segment_names=[str(n) for n in profile["name"]],
        features=features,
        clv_columns=clv_columns(features, spec.clv_horizon_days),
        period=spec.lifecycle_period,
        seed=spec.random_state,
    )
    return report, with_lifecycle_profile(profile, report)
