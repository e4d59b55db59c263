"""Describing segments in terms a business reader understands.

``profile_segments`` gives one row per segment: ``segment``, ``name``, ``size``, ``share``,
``<feature>_mean`` for every feature (the foundation's columns, first and in that order), then
``<feature>_median``, ``<feature>_lift`` (segment mean / population mean, undefined under the zero
guard of :mod:`segmentation.explain.average`), ``<feature>_smd``
(standardised mean difference: (segment mean - population mean) / population standard
deviation), ``distinguishing`` (the three features with the largest |smd|), ``actions``,
``<column>_top`` for categorical columns, ``<outcome>_rate`` or ``_mean`` with 95% interval
bounds for outcome columns, and ``historic_spend`` (the segment's mean spend so far: a total-spend
feature, or orders x spend per order) with ``value_share`` (the segment's share of that spend) where
value features exist. It is what customers have spent, not a lifetime value: nothing here models
what they will spend. Profiles stored before the rename call it ``clv_proxy``; no reader uses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .average import lift
from .names import actions_for, archetype, humanize, readable, role_of, trait_name
from .outcomes import outcome_association, outcome_values
from .vocabulary import DEFAULT_INDUSTRY

DISTINGUISHING = 3
TOP_CATEGORIES = 3
PER_ORDER = ("basket", "aov", "avg", "mean", "per_order")


def segment_name(standardised_means: pd.Series) -> str:
    """Kept for callers of the foundation: a name from the most distinctive features."""
    return trait_name(standardised_means)


def unique_names(names: Sequence[str], smds: Sequence[pd.Series | None] | None = None) -> list[str]:
    """Keep names unique so a reader can tell segments apart.

    Segments sharing a name are told apart by the feature on which each differs most from the
    others of that name ("New customers, higher monthly charges"); a number is the last resort.
    """
    result = list(names)
    if smds is not None:
        for name in set(names):
            group = [i for i, n in enumerate(names) if n == name]
            if len(group) < 2 or any(smds[i] is None for i in group):
                continue
            frame = pd.DataFrame([smds[i] for i in group], index=group)
            gaps = frame - frame.mean()
            for i in group:
                feature = gaps.loc[i].abs().idxmax()
                result[i] = (
                    f"{name}, {'higher' if gaps.loc[i, feature] > 0 else 'lower'} {readable(str(feature))}"
                )
    seen: dict[str, int] = {}
    numbered = []
    for name in result:
        seen[name] = seen.get(name, 0) + 1
        numbered.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return numbered


def _distinguishing(smd: pd.Series) -> str:
    ranked = smd.abs().sort_values(ascending=False, kind="stable").index[:DISTINGUISHING]
    return "; ".join(
        f"{'higher' if smd[f] > 0 else 'lower'} {humanize(str(f))} ({smd[f]:+.1f} sd)" for f in ranked
    )


def _customer_value(values: pd.DataFrame) -> pd.Series | None:
    """A historic value per customer: a total-spend column, or orders x spend per order."""
    monetary = [c for c in values.columns if role_of(str(c)) == "monetary"]
    frequency = [c for c in values.columns if role_of(str(c)) == "frequency"]
    totals = [c for c in monetary if not any(p in str(c).lower() for p in PER_ORDER)]
    if totals:
        return values[totals[0]].astype(float)
    if monetary and frequency:
        return values[monetary[0]].astype(float) * values[frequency[0]].astype(float)
    return None


def profile_segments(
    values: pd.DataFrame,
    standardised: np.ndarray | None,
    labels: np.ndarray,
    n_segments: int,
    *,
    categorical: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    industry: str = DEFAULT_INDUSTRY,
    neutral: bool = False,
) -> pd.DataFrame:
    """One row per segment (see the module docstring for the columns).

    ``neutral``: the structure test found nothing to segment, so the groups are "Group 1",
    "Group 2"... with no archetype and no actions: a name would claim a kind of customer the
    data does not show.

    ``values`` holds the features in the customer's own units (after filling missing cells);
    ``categorical`` and ``outcomes`` are optional frames aligned with ``values`` row for row.
    ``standardised`` is accepted for the foundation's callers; the profile standardises by the
    population's own mean and standard deviation so it reads the same for any scaling.
    """
    labels = np.asarray(labels)
    values = values.reset_index(drop=True).astype(float)
    population_mean = values.mean()
    population_sd = values.std(ddof=0).replace(0, np.nan)
    value = _customer_value(values)
    total_value = float(value.sum()) if value is not None else 0.0
    outcome_stats = {}
    if outcomes is not None:
        for column in outcomes.columns:
            numbers = outcome_values(outcomes[column].reset_index(drop=True))
            outcome_stats[column] = outcome_association(labels, numbers, name=str(column))
    rows = []
    archetypes: list[str] = []
    smds: list[pd.Series | None] = []
    for segment in range(n_segments):
        members = labels == segment
        row: dict[str, object] = {
            "segment": segment,
            "name": "Empty segment",
            "size": int(members.sum()),
            "share": float(members.mean()) if len(members) else 0.0,
        }
        segment_values = values[members]
        means = segment_values.mean()
        for column in values.columns:
            row[f"{column}_mean"] = float(means[column]) if members.any() else np.nan
        if members.any():
            smd = ((means - population_mean) / population_sd).fillna(0.0)
            row["name"] = archetype(smd, industry)
            row["distinguishing"] = _distinguishing(smd)
            smds.append(smd)
        else:
            smd = pd.Series(np.nan, index=values.columns)
            row["distinguishing"] = ""
            smds.append(None)
        archetypes.append(str(row["name"]))
        for column in values.columns:
            row[f"{column}_median"] = float(segment_values[column].median()) if members.any() else np.nan
            ratio = lift(means[column], population_mean[column]) if members.any() else None
            row[f"{column}_lift"] = np.nan if ratio is None else ratio
            row[f"{column}_smd"] = float(smd[column])
        if categorical is not None:
            for column in categorical.columns:
                counts = categorical[column].reset_index(drop=True)[members].value_counts(normalize=True)
                row[f"{column}_top"] = ", ".join(
                    f"{level} {share:.0%}" for level, share in counts.head(TOP_CATEGORIES).items()
                )
        for column, stats in outcome_stats.items():
            found = next((s for s in stats["segments"] if s["segment"] == segment), None)
            key = "rate" if stats["kind"] == "rate" else "mean"
            row[f"{column}_{key}"] = found[key] if found else np.nan
            row[f"{column}_ci_low"] = found["ci_low"] if found else np.nan
            row[f"{column}_ci_high"] = found["ci_high"] if found else np.nan
        if value is not None:
            row["historic_spend"] = float(value[members].mean()) if members.any() else np.nan
            row["value_share"] = float(value[members].sum() / total_value) if total_value else np.nan
        rows.append(row)
    profile = pd.DataFrame(rows)
    if neutral:
        profile["name"] = [f"Group {segment + 1}" for segment in range(n_segments)]
        profile["actions"] = ""
    else:
        profile["name"] = unique_names(archetypes, smds)
        profile["actions"] = [" | ".join(actions_for(name, industry)) for name in archetypes]
    # The profile is stored as JSON (PostgreSQL's jsonb refuses NaN): an undefined figure, such
    # as the lift of a feature whose population mean is 0, is None.
    for column in profile.columns[profile.isna().any()]:
        profile[column] = profile[column].astype(object).where(profile[column].notna(), None)
    return profile
