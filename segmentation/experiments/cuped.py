"""CUPED: the outcome adjusted by a pre-period covariate, then compared by Welch's test.

Within one segment, over the customers of every arm who have both the outcome Y and the
covariate X, θ = cov(Y, X) / var(X) and Y_adj = Y − θ (X − mean X). The effect is Welch's
difference in the means of Y_adj (method ``cuped_welch_t``).

θ is pooled over the arms, not fitted per arm: X is measured before assignment, so the
treatment cannot move it and randomisation makes mean X equal across arms in expectation. With
one θ for every arm the adjustment θ (mean X_t − mean X_c) has expectation zero and the
adjusted difference estimates the same effect as the raw one; per-arm θs would let the
treatment's effect on the slope leak into the estimate, and the pooled θ uses every customer,
so it is the steadier estimate.

Over the pooled customers var(Y_adj) = var(Y) (1 − ρ²) exactly, with ρ = corr(Y, X); the
interval of the difference narrows by about √(1 − ρ²). ``variance_reduction`` is that factor,
1 − ρ² (as the design's ``cuped_reduction``): the share of the variance that remains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .estimates import CUPED, Estimate, welch


@dataclass(frozen=True)
class Adjustment:
    theta: float
    rho: float
    variance_reduction: float  # 1 - rho**2, the factor the outcome's variance is multiplied by
    customers: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "theta": _finite(self.theta),
            "rho": _finite(self.rho),
            "variance_reduction": _finite(self.variance_reduction),
            "customers": self.customers,
        }


def adjust(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, Adjustment]:
    """Y_adj for every customer (NaN where Y or X is missing) and the adjustment used."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    both = ~np.isnan(y) & ~np.isnan(x)
    yy, xx = y[both], x[both]
    var_x = float(np.var(xx, ddof=1)) if len(xx) > 1 else 0.0
    var_y = float(np.var(yy, ddof=1)) if len(yy) > 1 else 0.0
    if var_x == 0:
        # A covariate that does not vary carries no information: no adjustment.
        theta, rho = 0.0, float("nan")
    else:
        cov = float(np.cov(yy, xx, ddof=1)[0, 1])
        theta = cov / var_x
        rho = cov / np.sqrt(var_x * var_y) if var_y > 0 else float("nan")
    adjusted = np.full(len(y), np.nan)
    adjusted[both] = yy - theta * (xx - xx.mean()) if len(xx) else yy
    reduction = 1 - rho**2 if np.isfinite(rho) else 1.0
    return adjusted, Adjustment(theta, rho, reduction, int(both.sum()))


def cuped_welch(
    y: np.ndarray, x: np.ndarray, treated: np.ndarray, control: np.ndarray, alpha: float
) -> tuple[Estimate, Adjustment]:
    """Welch's test on Y_adj between the customers flagged ``treated`` and ``control``; θ is
    pooled over every customer passed (all arms of the segment)."""
    adjusted, adjustment = adjust(y, x)
    ok = ~np.isnan(adjusted)
    return welch(adjusted[treated & ok], adjusted[control & ok], alpha, method=CUPED), adjustment


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
