"""The analysis of a stratified experiment: effects per segment and overall, and the checks on them.

:func:`analyse` joins the assignment (customer_id, segment, arm) with the outcomes (customer_id
and one column a metric) and, per segment, metric and non-control arm against the control, gives
the difference (``welch_t``, or ``two_proportion_z`` for a binary metric), the ``relative_lift``
and, with a covariate, the ``cuped_welch_t`` effect (see :mod:`.estimates`, :mod:`.cuped`).

- Overall (segment ``"all"``, method ``post_stratified``): Σ_s w_s effect_s with w_s the
  segment's share of the experiment's customers (those assigned with an outcome row), variance
  Σ_s w_s² var_s and a normal interval. The per-segment effect it combines is the metric's
  *primary* one: CUPED when a covariate is given, otherwise the difference. Segments without an
  estimate are left out and the weights renormalised over the rest (said in ``missing``).
- Heterogeneity, per metric (the first treatment arm at the top level, every arm in
  ``by_arm``): Cochran's Q = Σ w_i (θ_i − θ̄)² with w_i = 1/var_i and θ̄ the inverse-variance
  mean, df = S − 1, p = P(χ²_df > Q), I² = max(0, (Q − df) / Q).
- Multiplicity: Holm or Benjamini–Hochberg (``multipletests``) across the segments, metrics and
  arms of one analysis, within each family of the same question: the difference (``welch_t`` and
  ``two_proportion_z`` together), ``relative_lift``, ``cuped_welch_t`` and ``post_stratified``.
  Missing estimates take no part.
- Sample-ratio mismatch (:mod:`.srm`) on the customers analysed.

Customers with outcomes but no arm, and assigned customers without outcomes, are counted in
``coverage``; a metric not in ``registered_metrics`` (default: the design's primary and
guardrail metrics) is ``exploratory``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..errors import SegmentationError
from .arms import Arm
from .cuped import cuped_welch
from .estimates import (
    POST_STRATIFIED,
    PROPORTIONS,
    WELCH,
    Estimate,
    binary_values,
    cochran_q,
    post_stratified,
    relative_lift,
    two_proportions,
    welch,
)
from .srm import srm_table

ANALYSIS_FORMAT = "segplatform.analysis/1"
CORRECTIONS = ("holm", "fdr_bh")
EFFECT_COLUMNS = [
    "segment",
    "metric",
    "arm",
    "method",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "n_control",
    "n_treatment",
    "exploratory",
    "registered",
]
FAMILIES = {WELCH: "difference", PROPORTIONS: "difference"}


@dataclass(frozen=True)
class Analysis:
    effects: pd.DataFrame
    srm: pd.DataFrame
    heterogeneity: dict
    mappings: dict
    coverage: dict = field(default_factory=dict)
    missing: tuple[dict, ...] = ()
    cuped: dict = field(default_factory=dict)
    alpha: float = 0.05
    correction: str = "holm"

    def to_dict(self) -> dict[str, Any]:
        """``analysis.json``."""
        return {
            "format": ANALYSIS_FORMAT,
            "alpha": self.alpha,
            "correction": self.correction,
            "coverage": self.coverage,
            "effects": _records(self.effects),
            "srm": _records(self.srm),
            "srm_flagged": sorted({str(s) for s in self.srm.loc[self.srm["flagged"], "segment"]}),
            "heterogeneity": self.heterogeneity,
            "mappings": self.mappings,
            "cuped": self.cuped,
            "missing": list(self.missing),
        }


def design_arms(design: dict) -> tuple[Arm, ...]:
    arms = design.get("arms") or []
    try:
        parsed = tuple(Arm(str(a["name"]), int(a["ratio"])) for a in arms)
    except (KeyError, TypeError, ValueError) as error:
        raise SegmentationError(
            "The design's arms must each have a name and a whole-number ratio."
        ) from error
    if len(parsed) < 2 or len({a.name for a in parsed}) < len(parsed) or min(a.ratio for a in parsed) < 1:
        raise SegmentationError(
            "The design needs at least two arms with distinct names and ratios of at least 1."
        )
    return parsed


def correction_from_plan(design: dict) -> str:
    """The correction an analysis plan asks for: ``fdr_bh`` when the design names it (its key
    ``correction``, or Benjamini–Hochberg / FDR in ``analysis_plan``), otherwise ``holm``."""
    if design.get("correction") in CORRECTIONS:
        return str(design["correction"])
    plan = str(design.get("analysis_plan") or "").lower()
    return "fdr_bh" if any(w in plan for w in ("fdr_bh", "benjamini", "false discovery")) else "holm"


def _metric_name(metric: object) -> str | None:
    if isinstance(metric, dict):
        return str(metric["name"]) if metric.get("name") else None
    return str(metric) if metric else None


def design_metrics(design: dict) -> dict[str, str | None]:
    """The design's metrics (primary first, then guardrails) and their declared kinds."""
    found: dict[str, str | None] = {}
    for metric in [design.get("primary"), *(design.get("guardrails") or [])]:
        name = _metric_name(metric)
        if name:
            found[name] = metric.get("kind") if isinstance(metric, dict) else None
    return found


def _check_inputs(
    assignment: pd.DataFrame, outcomes: pd.DataFrame, columns: list[str], arms: tuple[Arm, ...]
) -> None:
    lacking = [c for c in ("customer_id", "segment", "arm") if c not in assignment.columns]
    if lacking:
        raise SegmentationError(f"The assignment has no column {', '.join(map(repr, lacking))}.")
    absent = [c for c in ["customer_id", *columns] if c not in outcomes.columns]
    if absent:
        have = ", ".join(map(repr, [c for c in outcomes.columns if c != "customer_id"])) or "none"
        raise SegmentationError(
            f"The outcomes have no column {', '.join(map(repr, absent))} (their columns: {have}).",
            key="metrics",
        )
    for name, frame in (("assignment", assignment), ("outcomes", outcomes)):
        twice = frame["customer_id"].astype(str).duplicated()
        if twice.any():
            shown = ", ".join(map(repr, frame.loc[twice, "customer_id"].astype(str).unique()[:3]))
            extra = int(twice.sum())
            raise SegmentationError(
                f"Customer ids repeat in the {name} ({extra} extra row{'s' if extra > 1 else ''}, e.g. {shown}): "
                "each customer needs one row."
            )
    clash = [c for c in columns if c in ("segment", "arm")]
    if clash:
        raise SegmentationError(
            f"A metric or covariate cannot be called {clash[0]!r}: that is a column of the assignment.",
            key="metrics",
        )
    names = {a.name for a in arms}
    unknown = sorted(set(assignment["arm"].astype(str)) - names)
    if unknown:
        raise SegmentationError(
            f"The assignment has the arm {', '.join(map(repr, unknown))}, not in the design "
            f"({', '.join(a.name for a in arms)})."
        )


def analyse(
    design: dict,
    assignment: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    metrics: list[str],
    covariate: str | None = None,
    alpha: float | None = None,
    correction: str = "holm",
    registered_metrics: list[str] | None = None,
) -> Analysis:
    arms = design_arms(design)
    alpha = float(design.get("alpha", 0.05) if alpha is None else alpha)
    if not 0 < alpha < 1:
        raise SegmentationError(f"alpha must be between 0 and 1, not {alpha}.", key="alpha")
    if correction not in CORRECTIONS:
        raise SegmentationError(
            f"The correction must be holm or fdr_bh, not {correction!r}.", key="correction"
        )
    if not metrics:
        raise SegmentationError("Name at least one metric to analyse.", key="metrics")
    _check_inputs(assignment, outcomes, [*metrics, *([covariate] if covariate else [])], arms)
    declared = design_metrics(design)
    # by default the design's metrics are registered; a design naming none leaves every metric as planned
    registered = (set(declared) or set(metrics)) if registered_metrics is None else set(registered_metrics)

    assigned = assignment[["customer_id", "segment", "arm"]].assign(
        customer_id=assignment["customer_id"].astype(str),
        arm=assignment["arm"].astype(str),
        segment=_segments(assignment["segment"]),
    )
    columns = list(dict.fromkeys([*metrics, *([covariate] if covariate else [])]))
    observed = outcomes[["customer_id", *columns]].assign(customer_id=outcomes["customer_id"].astype(str))
    both = assigned.merge(observed, on="customer_id", how="inner").sort_values(["segment", "customer_id"])
    coverage: dict[str, Any] = {
        "assigned": len(assigned),
        "with_outcomes": len(observed),
        "analysed": len(both),
        "outcomes_not_assigned": int((~observed["customer_id"].isin(assigned["customer_id"])).sum()),
        "assigned_without_outcomes": int((~assigned["customer_id"].isin(observed["customer_id"])).sum()),
        "missing_values": {},
    }
    for arm in arms:
        if not (assigned["arm"] == arm.name).any():
            raise SegmentationError(f"The arm {arm.name!r} of the design has no customers in the assignment.")
        if not (both["arm"] == arm.name).any():
            raise SegmentationError(f"No customer of the arm {arm.name!r} has an outcome.")

    x = pd.to_numeric(both[covariate], errors="coerce").to_numpy(float) if covariate else None
    if covariate and x is not None and np.isnan(x).all():
        raise SegmentationError(f"The covariate {covariate!r} has no numeric values.", key="covariate")
    rows: list[dict] = []
    missing: list[dict] = []
    mappings: dict[str, dict] = {}
    cuped: dict[str, dict] = {}
    primary: dict[tuple[str, str], list[tuple[int, Estimate, int]]] = {}
    segments = np.asarray(both["segment"].to_numpy())
    arm_of = both["arm"].to_numpy()
    control = arms[0].name

    for metric in metrics:
        y, mapping = binary_values(metric, both[metric], declared=declared.get(metric))
        binary = mapping is not None
        if mapping is not None:
            mappings[metric] = mapping
        coverage["missing_values"][metric] = int(np.isnan(y).sum())
        exploratory = metric not in registered
        cuped[metric] = {}
        for segment in sorted(set(segments.tolist())):
            inside = segments == segment
            ys, arm_s = y[inside], arm_of[inside]
            ok = ~np.isnan(ys)
            c = ys[ok & (arm_s == control)]
            for arm in arms[1:]:
                t = ys[ok & (arm_s == arm.name)]
                found = [two_proportions(t, c, alpha) if binary else welch(t, c, alpha)]
                found.append(relative_lift(t, c, alpha, binary=binary))
                if x is not None:
                    estimate, adjustment = cuped_welch(
                        ys, x[inside], arm_s == arm.name, arm_s == control, alpha
                    )
                    found.append(estimate)
                    cuped[metric][str(segment)] = adjustment.to_dict()
                for e in found:
                    rows.append(_row(segment, metric, arm.name, e, exploratory))
                    if e.reason:
                        missing.append(_missing(segment, metric, arm.name, e.method, e.reason))
                chosen = found[-1] if x is not None else found[0]
                primary.setdefault((metric, arm.name), []).append((int(segment), chosen, int(inside.sum())))

    heterogeneity: dict[str, dict] = {}
    for (metric, arm_name), per_segment in primary.items():
        overall, note = post_stratified(per_segment, alpha)
        rows.append(_row("all", metric, arm_name, overall, metric not in registered))
        if note:
            missing.append(_missing("all", metric, arm_name, POST_STRATIFIED, note))
        q = cochran_q(
            np.array([e.estimate for _, e, _ in per_segment]), np.array([e.se**2 for _, e, _ in per_segment])
        )
        entry = heterogeneity.setdefault(
            metric, {**q, "arm": arm_name, "method": per_segment[0][1].method, "by_arm": {}}
        )
        entry["by_arm"][arm_name] = q

    effects = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    effects["p_adjusted"] = adjusted_p(effects, correction)
    srm = srm_table(both[["segment", "arm"]], arms)
    return Analysis(effects, srm, heterogeneity, mappings, coverage, tuple(missing), cuped, alpha, correction)


def _segments(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers != numbers.round())
    if bad.any():
        shown = ", ".join(map(repr, values[bad].astype(str).unique()[:3]))
        raise SegmentationError(f"The assignment's segments are whole numbers (-1 for noise), not {shown}.")
    return numbers.astype(np.int64)


def adjusted_p(effects: pd.DataFrame, correction: str) -> np.ndarray:
    """Holm or Benjamini–Hochberg within each family of methods; NaN p-values stay NaN."""
    out = np.full(len(effects), np.nan)
    family = effects["method"].map(lambda m: FAMILIES.get(m, m)).to_numpy()
    p = effects["p_value"].to_numpy(float)
    for name in dict.fromkeys(family):
        index = np.flatnonzero((family == name) & np.isfinite(p))
        if len(index):
            out[index] = multipletests(p[index], method=correction)[1]
    return out


def _row(segment: object, metric: str, arm: str, e: Estimate, exploratory: bool) -> dict:
    return {
        "segment": segment,
        "metric": metric,
        "arm": arm,
        "method": e.method,
        "estimate": e.estimate,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "p_value": e.p_value,
        "p_adjusted": np.nan,
        "n_control": e.n_control,
        "n_treatment": e.n_treatment,
        "exploratory": exploratory,
        "registered": not exploratory,
    }


def _missing(segment: object, metric: str, arm: str, method: str, reason: str) -> dict:
    return {"segment": str(segment), "metric": metric, "arm": arm, "method": method, "reason": reason}


def _records(frame: pd.DataFrame) -> list[dict]:
    def clean(value: object) -> object:
        if isinstance(value, float | np.floating):
            return float(value) if np.isfinite(value) else None
        if isinstance(value, np.integer | np.bool_):
            return value.item()
        return value

    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def write_analysis(analysis: Analysis, out: Path) -> list[Path]:
    """effects.csv, srm.csv and analysis.json in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "effects.csv", out / "srm.csv", out / "analysis.json"]
    analysis.effects.to_csv(paths[0], index=False)
    analysis.srm.to_csv(paths[1], index=False)
    paths[2].write_text(json.dumps(analysis.to_dict(), indent=2, allow_nan=False) + "\n")
    return paths
