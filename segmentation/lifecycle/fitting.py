"""Maximum likelihood for the lifecycle models: the parameters on a log scale (all positive), the
customers with the same history counted once with a weight (logs repeat histories a lot, and a
day-level summary more so), and a quasi-Newton search (Nelder–Mead when it stalls).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from ..errors import SegmentationError

# Parameters beyond these bounds mean the data cannot identify the model (for example a
# population in which nobody ever drops out): the fit is refused rather than reported.
LOG_BOUND = 20.0


def distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The distinct rows of ``columns`` (one array each), how many customers share each, and
    where each input row is among them."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    rows, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(float), inverse.reshape(-1)


def maximise(
    log_likelihood: Callable[[np.ndarray], np.ndarray],
    weights: np.ndarray,
    names: Sequence[str],
    model: str,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, float]:
    """Parameters (positive) maximising ``sum(weights * log_likelihood(params))``, and that maximum.

    ``log_likelihood`` maps the parameters to one log-likelihood per distinct row; ``gradient``,
    when the model has one in closed form, to its derivatives by parameter, (rows, parameters).
    With it the quasi-Newton search converges on its own; without, a simplex search polishes
    what finite differences left.
    """
    total = float(weights.sum())

    def objective(log_params: np.ndarray) -> float:
        if np.any(np.abs(log_params) > LOG_BOUND):
            return np.inf
        with np.errstate(all="ignore"):
            value = -float((weights * log_likelihood(np.exp(log_params))).sum()) / total
        return value if np.isfinite(value) else np.inf

    def objective_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value = objective(log_params)
        if not np.isfinite(value) or gradient is None:
            return value, np.zeros(len(log_params))
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            slope = -(weights[:, None] * gradient(params)).sum(axis=0) * params / total
        return value, np.where(np.isfinite(slope), slope, 0.0)

    start = np.zeros(len(names))
    if not np.isfinite(objective(start)):
        raise SegmentationError(f"the {model} likelihood cannot be evaluated on this data")
    options = {"maxiter": 2_000, "ftol": 1e-14, "gtol": 1e-9}
    # A finite-difference step into the refused region gives inf - inf: the search then backs off.
    with np.errstate(invalid="ignore"):
        if gradient is None:
            first = minimize(objective, start, method="L-BFGS-B", options=options)
        else:
            first = minimize(objective_and_gradient, start, jac=True, method="L-BFGS-B", options=options)
    log_params, value = first.x, float(first.fun)
    if gradient is None or not first.success:
        best = minimize(
            objective,
            first.x,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 20_000},
        )
        if best.fun <= value:
            log_params, value = best.x, float(best.fun)
    if not np.isfinite(value) or np.any(np.abs(log_params) > LOG_BOUND - 1):
        raise SegmentationError(
            f"the {model} model could not be fitted: the data do not pin down its parameters "
            f"({', '.join(f'{n} = {v:.3g}' for n, v in zip(names, np.exp(log_params), strict=True))})"
        )
    return np.exp(log_params), float(-value * total)
