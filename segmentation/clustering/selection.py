"""Choosing one candidate clustering, with a sentence that says why.

The combined rule (``selection: "combined"``, the default)
----------------------------------------------------------
1. Only candidates with at least two segments and a silhouette are eligible.
2. Each eligible candidate gets a rank score in [0, 1] on four criteria: silhouette (higher is
   better), Davies–Bouldin (lower), Calinski–Harabasz (higher) and bootstrap stability (mean
   adjusted Rand, higher). The best candidate on a criterion scores 1, the worst 0, ties share
   their mean rank. The score is the mean of the four. Ranks, not raw values, so no criterion
   dominates by its units (Calinski–Harabasz runs into the thousands).
3. Penalties: a candidate whose stability is below ``STABILITY_FLOOR`` (0.6, where Hennig's
   bootstrap treats clusters as dissolving) loses 1, and so does one whose smallest segment holds
   less than ``TINY_SEGMENT`` (1%) of customers, or, when the sweep says how many customers there
   are, fewer than :func:`segmentation.bounds.min_segment_size` of them (too small to act on). As rank scores lie in
   [0, 1], such a candidate wins only when every candidate has the same problem. Density methods
   lose their noise share (customers left unassigned are customers unexplained).
4. Highest score wins; ties go to the smaller k, then to the algorithm listed first.

The silhouette rule (``selection: "silhouette"``) is the foundation's: highest silhouette,
ties to the smaller k.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import rankdata

from ..bounds import min_segment_size, small_segment_wording
from ..errors import SegmentationError

STABILITY_FLOOR = 0.6
TINY_SEGMENT = 0.01
UNSTABLE_PENALTY = 1.0
TINY_PENALTY = 1.0
RULES = ("combined", "silhouette")

# criterion key, reader's name, +1 when higher is better
CRITERIA = (
    ("silhouette", "silhouette", 1),
    ("davies_bouldin", "Davies–Bouldin", -1),
    ("calinski_harabasz", "Calinski–Harabasz", 1),
    ("stability", "stability", 1),
)


def _eligible(candidates: list[dict[str, Any]]) -> list[int]:
    return [i for i, c in enumerate(candidates) if c.get("k", 0) >= 2 and c.get("silhouette") is not None]


def _label(c: dict[str, Any]) -> str:
    return f"{c['algorithm']} with k = {c['k']}"


def _value(c: dict[str, Any], key: str) -> float:
    value = c.get(key)
    return float("nan") if value is None else float(value)


def _tiny_share(customers: int | None) -> float:
    """The share below which a segment is too small: the bounds' minimum size among ``customers``."""
    if not customers:
        return TINY_SEGMENT
    return max(TINY_SEGMENT, min_segment_size(customers) / customers)


def score_candidates(
    candidates: list[dict[str, Any]], customers: int | None = None
) -> dict[int, dict[str, float]]:
    """Rank scores per criterion, penalties and the total, for every eligible candidate."""
    tiny = _tiny_share(customers)
    eligible = _eligible(candidates)
    scores: dict[int, dict[str, float]] = {i: {} for i in eligible}
    for key, _, direction in CRITERIA:
        values = np.array([direction * _value(candidates[i], key) for i in eligible])
        missing = np.isnan(values)
        values[missing] = -np.inf  # an unmeasured criterion ranks last
        ranks = rankdata(values, method="average")
        spread = len(eligible) - 1
        for i, rank in zip(eligible, ranks, strict=True):
            scores[i][key] = float((rank - 1) / spread) if spread else 1.0
    for i in eligible:
        c = candidates[i]
        penalty = 0.0
        stability = _value(c, "stability")
        if not np.isnan(stability) and stability < STABILITY_FLOOR:
            penalty += UNSTABLE_PENALTY
        smallest = c.get("smallest_share")
        if smallest is not None and smallest < tiny:
            penalty += TINY_PENALTY
        penalty += float(c.get("noise_share") or 0.0)
        scores[i]["penalty"] = penalty
        scores[i]["score"] = float(np.mean([scores[i][key] for key, _, _ in CRITERIA]) - penalty)
    return scores


def select(
    candidates: list[dict[str, Any]], rule: str = "combined", customers: int | None = None
) -> tuple[int, str]:
    """Index of the winning candidate and a sentence saying why it won and why the runner-up lost.

    Adds ``score`` to every eligible candidate under the combined rule. Raises
    :class:`SegmentationError` when no candidate has two segments to compare.
    """
    if rule not in RULES:
        raise SegmentationError(f"unknown selection rule '{rule}'; choose 'combined' or 'silhouette'")
    eligible = _eligible(candidates)
    if not eligible:
        raise SegmentationError(
            "no algorithm produced at least two segments on this data: try a wider k range, "
            "other algorithms, or more varied features"
        )
    if rule == "silhouette":
        order = sorted(eligible, key=lambda i: (-candidates[i]["silhouette"], candidates[i]["k"], i))
        best = candidates[order[0]]
        ks = [candidates[i]["k"] for i in eligible]
        tied = sum(candidates[i]["silhouette"] == best["silhouette"] for i in eligible) > 1
        reason = f"highest silhouette ({best['silhouette']:.3f}) among k = {min(ks)}..{max(ks)}" + (
            "; ties go to the smaller k" if tied else ""
        )
        return order[0], reason

    scores = score_candidates(candidates, customers)
    for i, s in scores.items():
        candidates[i]["score"] = round(s["score"], 6)
    order = sorted(eligible, key=lambda i: (-scores[i]["score"], candidates[i]["k"], i))
    winner = candidates[order[0]]
    figures = ", ".join(
        f"{name} {_value(winner, key):.3g}" for key, name, _ in CRITERIA if winner.get(key) is not None
    )
    reason = (
        f"{_label(winner)} has the best combined score ({scores[order[0]]['score']:.2f}: mean rank of "
        f"silhouette, Davies–Bouldin, Calinski–Harabasz and stability, minus penalties) with {figures}"
    )
    if len(order) > 1:
        runner = order[1]
        gaps = {key: scores[order[0]][key] - scores[runner][key] for key, _, _ in CRITERIA}
        key = max(gaps, key=lambda k: gaps[k])
        name = next(n for k, n, _ in CRITERIA if k == key)
        why = f"worse {name} ({_value(candidates[runner], key):.4g} against {_value(winner, key):.4g})"
        if scores[runner]["penalty"] >= scores[order[0]]["penalty"] + 0.005:
            why += (
                f" and a penalty of {scores[runner]['penalty']:.2f} "
                f"({_penalty_reason(candidates[runner], customers)})"
            )
        elif gaps[key] <= 0:
            why = "an equal score, and ties go to the smaller k"
        reason += (
            f"; the runner-up, {_label(candidates[runner])} ({scores[runner]['score']:.2f}), lost on {why}"
        )
    return order[0], reason


def _penalty_reason(c: dict[str, Any], customers: int | None = None) -> str:
    parts = []
    if c.get("stability") is not None and c["stability"] < STABILITY_FLOOR:
        parts.append(f"stability below {STABILITY_FLOOR}")
    if c.get("smallest_share") is not None and c["smallest_share"] < _tiny_share(customers):
        too_small = small_segment_wording(customers) if customers else None
        parts.append(too_small or f"a segment under {TINY_SEGMENT:.0%} of customers")
    if c.get("noise_share"):
        parts.append(f"{c['noise_share']:.0%} of customers left as noise")
    return ", ".join(parts) or "none"
