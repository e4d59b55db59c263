"""Describing segments in terms a business reader understands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# A segment must differ from the population by at least this many standard deviations on a
# feature before its name mentions that feature; below it the difference is noise to a reader.
NOTABLE_DIFFERENCE = 0.25
TRAITS_IN_NAME = 2


def humanize(column: str) -> str:
    return column.replace("_", " ").strip()


def segment_name(standardised_means: pd.Series) -> str:
    """Name a segment after its most distinctive features, e.g. "High monetary, low recency"."""
    ranked = standardised_means.abs().sort_values(ascending=False, kind="stable")
    parts = []
    for feature in ranked.index[:TRAITS_IN_NAME]:
        value = standardised_means[feature]
        if abs(value) < NOTABLE_DIFFERENCE:
            break
        parts.append(f"{'high' if value > 0 else 'low'} {humanize(str(feature))}")
    if not parts:
        return "Average customers"
    name = ", ".join(parts)
    return name[0].upper() + name[1:]


def unique_names(names: Sequence[str]) -> list[str]:
    """Keep names unique so a reader can tell segments apart: repeats get a number."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return result


def profile_segments(
    values: pd.DataFrame, standardised: np.ndarray, labels: np.ndarray, n_segments: int
) -> pd.DataFrame:
    """One row per segment: ``segment``, ``name``, ``size``, ``share`` and ``<feature>_mean``.

    ``values`` holds the features as the customer had them (after filling missing cells), so
    means read in the client's own units; ``standardised`` drives the naming.
    """
    rows = []
    z = pd.DataFrame(standardised, columns=values.columns)
    for segment in range(n_segments):
        members = labels == segment
        row: dict[str, object] = {
            "segment": segment,
            "name": segment_name(z[members].mean()) if members.any() else "Empty segment",
            "size": int(members.sum()),
            "share": float(members.mean()),
        }
        for column in values.columns:
            row[f"{column}_mean"] = float(values.loc[members, column].mean()) if members.any() else np.nan
        rows.append(row)
    profile = pd.DataFrame(rows)
    profile["name"] = unique_names(list(profile["name"]))
    return profile
