"""Hartigan's dip test of unimodality on the leading principal components.

Groups that are well apart along a direction make the data's distribution along it have more
than one mode. The dip statistic (Hartigan and Hartigan 1985) is the largest distance between the
empirical distribution function and the closest unimodal one; its p-value, from the ``diptest``
package's tabulated critical values, is taken against the uniform, the least favourable unimodal
distribution, so a small p-value means a second mode that no unimodal shape explains. Skewed
spend (log-normal, exponential) is unimodal and passes.

The test reads the data's ``COMPONENTS`` leading principal components one by one, with Holm's
adjustment across them. A rejection is evidence of structure; no rejection is not evidence of its
absence (groups may differ along a direction no leading component follows).

Ties make the empirical distribution climb in steps, which the dip reads as modes (a Poisson
count has a bump at every integer). So a column whose values sit on a regular grid with fewer
distinct values than half its rows (counts, flags, ratings) is first dithered: each value is
spread uniformly over its own grid cell, which turns a unimodal distribution of counts into a
unimodal density and leaves a multimodal one multimodal. A component in which one value still
holds more than ``MAX_TIE_SHARE`` of the rows (ties off any grid) is not tested, and the
evidence says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPONENTS = 3
ALPHA = 0.05
MAX_TIE_SHARE = 0.01


@dataclass(frozen=True)
class ComponentDip:
    """The dip test on one principal component: ``dip``, its ``p_value`` and the Holm-adjusted
    ``adjusted_p``; ``skipped`` says why a component was not tested (its figures are then None)."""

    component: int
    share_of_variance: float
    dip: float | None = None
    p_value: float | None = None
    adjusted_p: float | None = None
    skipped: str = ""


@dataclass(frozen=True)
class DipEvidence:
    components: tuple[ComponentDip, ...]
    alpha: float = ALPHA

    @property
    def multimodal(self) -> bool:
        """True when some tested component rejects unimodality after Holm's adjustment."""
        return any(c.adjusted_p is not None and c.adjusted_p < self.alpha for c in self.components)

    def as_dict(self) -> dict[str, object]:
        return {
            "multimodal": self.multimodal,
            "alpha": self.alpha,
            "by_component": [
                {
                    "component": c.component,
                    "share_of_variance": round(c.share_of_variance, 6),
                    "dip": None if c.dip is None else round(c.dip, 6),
                    "p_value": None if c.p_value is None else round(c.p_value, 6),
                    "adjusted_p": None if c.adjusted_p is None else round(c.adjusted_p, 6),
                    **({"skipped": c.skipped} if c.skipped else {}),
                }
                for c in self.components
            ],
        }


def principal_scores(points: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows' scores on their ``count`` leading principal components and each one's share of variance."""
    centred = points - points.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    total = float((singular**2).sum())
    shares = singular**2 / total if total > 0 else np.zeros_like(singular)
    count = min(count, len(singular))
    return centred @ components[:count].T, shares[:count]


def _largest_tie_share(values: np.ndarray) -> float:
    _, counts = np.unique(np.round(values, 12), return_counts=True)
    return float(counts.max() / len(values))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order (equal to statsmodels' ``holm``)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return [float(v) for v in adjusted]


def dithered(points: np.ndarray, random_state: int = 0) -> np.ndarray:
    """``points`` with every column on a regular grid spread uniformly over its grid cells (see
    the module docstring); other columns unchanged."""
    rng = np.random.default_rng([random_state, 3_571])
    out = np.array(points, dtype=float, copy=True)
    for j in range(out.shape[1]):
        levels = np.unique(out[:, j])
        if len(levels) < 2 or len(levels) * 2 > len(out):
            continue
        steps = np.diff(levels)
        cell = steps.min()
        if not np.allclose(steps / cell, np.round(steps / cell), atol=1e-6):
            continue
        out[:, j] += rng.uniform(-cell / 2, cell / 2, size=len(out))
    return out


def dip_evidence(points: np.ndarray, *, components: int = COMPONENTS, random_state: int = 0) -> DipEvidence:
    """The dip test on each of the leading principal components of ``points`` (see the module docstring)."""
    import diptest  # imported here: its extension loads only when a structure test runs

    points = dithered(np.asarray(points, dtype=float).reshape(len(points), -1), random_state)
    scores, shares = principal_scores(points, components)
    tested: list[tuple[int, float, float]] = []
    results: dict[int, ComponentDip] = {}
    for j in range(scores.shape[1]):
        values = scores[:, j]
        tie_share = _largest_tie_share(values)
        if len(values) < 4 or tie_share > max(MAX_TIE_SHARE, 1 / len(values)):
            results[j] = ComponentDip(
                component=j + 1,
                share_of_variance=float(shares[j]),
                skipped=(
                    f"one value holds {tie_share:.0%} of the rows, so the dip would read the ties as modes"
                    if len(values) >= 4
                    else "too few rows"
                ),
            )
            continue
        dip, p_value = diptest.diptest(values)
        tested.append((j, float(dip), float(p_value)))
    adjusted = holm([p for _, _, p in tested]) if tested else []
    for (j, dip, p_value), adjusted_p in zip(tested, adjusted, strict=True):
        results[j] = ComponentDip(
            component=j + 1,
            share_of_variance=float(shares[j]),
            dip=dip,
            p_value=p_value,
            adjusted_p=adjusted_p,
        )
    return DipEvidence(components=tuple(results[j] for j in sorted(results)))
