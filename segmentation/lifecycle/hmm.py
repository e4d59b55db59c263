"""The lifecycle HMM: each state emits a period's purchase count from a Poisson and, in a period
with purchases, its log spend per purchase from a Gaussian (a period without purchases has no
spend to read); fitted by Baum-Welch vectorised over customers.

Why not a Gaussian on log1p(count) as well: counts are whole numbers, so a Gaussian state
collapses onto one value (customers with exactly one purchase a month) instead of describing a
behaviour; a Poisson rate does not. Spend is read only when there are purchases, so an active
customer's quiet month is a Poisson zero, not a spend of 0 far from the state's mean; the
dormant state is the one whose rate is near 0.

hmmlearn fits HMMs but loops over sequences in Python, which is slow for hundreds of thousands
of customers; here one step of the forward-backward recursion handles every customer at once on
sequences padded to the longest one (``mask`` marks the periods that exist). Scaled recursions
(Rabiner): ``alpha`` is the filtered posterior P(state_t | x_1..t), ``c_t`` the one-step
predictive likelihood, so log L = Σ log c_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from sklearn.cluster import KMeans

MIN_VARIANCE = 1e-3  # added to the spend variance, as hmmlearn adds min_covar
MIN_RATE = 1e-3  # a dormant state's purchases per period stay above 0, so log(rate) is finite


@dataclass(frozen=True)
class ActivityHMM:
    startprob: np.ndarray  # (K,)
    transmat: np.ndarray  # (K, K), rows sum to 1
    rates: np.ndarray  # (K,) Poisson purchases per period
    means: np.ndarray  # (K,) mean log1p(spend per purchase) in a period with purchases
    variances: np.ndarray  # (K,)

    @property
    def n_states(self) -> int:
        return len(self.startprob)

    def n_parameters(self) -> int:
        """Free parameters: K-1 start, K(K-1) transition, K rates, K spend means, K variances."""
        k = self.n_states
        return (k - 1) + k * (k - 1) + 3 * k


def log_emissions(model: ActivityHMM, X: np.ndarray) -> np.ndarray:
    """log P(count, log spend per purchase | state) for X of shape (..., 2) -> (..., K)."""
    # Linear in (count, buying, buying·spend, buying·spend², 1): one matrix product.
    count, spend = X[..., 0], X[..., 1]
    buying = (count > 0).astype(float)
    features = np.stack([count, buying, buying * spend, buying * spend**2, np.ones_like(count)], axis=-1)
    v, m = model.variances, model.means
    weights = np.stack(
        [np.log(model.rates), -0.5 * (np.log(2 * np.pi * v) + m**2 / v), m / v, -0.5 / v, -model.rates]
    )
    return features @ weights - gammaln(count + 1)[..., None]


def forward_backward(
    model: ActivityHMM, X: np.ndarray, mask: np.ndarray, backward: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """X (N, T, D), mask (N, T), sequences left-aligned. Returns the per-customer log-likelihood
    (N,), the last filtered posterior (N, K), the smoothed posteriors gamma (N, T, K; zero on
    padding; the filtered ones without ``backward``) and the summed expected transitions (K, K)
    when ``backward``."""
    loglik, last, gamma, xi = _time_major(model, np.swapaxes(X, 0, 1), mask.T, backward)
    return loglik, last, np.swapaxes(gamma, 0, 1), xi


def _time_major(
    model: ActivityHMM, X: np.ndarray, mask: np.ndarray, backward: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`forward_backward` on X (T, N, D) and mask (T, N): each period a contiguous block,
    which the recursions step through (gamma comes back (T, N, K))."""
    t_max, n, _ = X.shape
    k = model.n_states
    X = np.ascontiguousarray(X)
    logb = log_emissions(model, X)
    top = logb.max(-1, keepdims=True)
    b = np.exp(logb - top)
    alpha = np.empty((t_max, n, k))
    scale = np.ones((t_max, n))
    loglik = np.zeros(n)
    current = np.broadcast_to(model.startprob, (n, k))
    for t in range(t_max):
        predicted = current if t == 0 else current @ model.transmat
        joint = predicted * b[t]
        total = joint.sum(-1)
        valid = mask[t]
        safe = np.where(total > 0, total, 1.0)
        current = np.where(valid[:, None], joint / safe[:, None], current)
        alpha[t] = current
        scale[t] = np.where(valid, safe, 1.0)
        loglik += np.where(valid, np.log(safe) + top[t, :, 0], 0.0)
    last = current
    if not backward:
        return loglik, last, alpha, None
    beta = np.ones((n, k))
    gamma = np.zeros((t_max, n, k))
    xi = np.zeros((k, k))
    gamma[t_max - 1] = np.where(mask[t_max - 1, :, None], alpha[t_max - 1], 0.0)
    for t in range(t_max - 2, -1, -1):
        pair = mask[t + 1]  # a transition t -> t+1 exists
        weighted = b[t + 1] * beta / scale[t + 1, :, None]
        xi += model.transmat * ((alpha[t] * pair[:, None]).T @ weighted)
        beta = np.where(pair[:, None], weighted @ model.transmat.T, 1.0)
        g = alpha[t] * beta
        gamma[t] = np.where(mask[t, :, None], g / g.sum(-1, keepdims=True), 0.0)
    return loglik, last, gamma, xi


def _initial(points: np.ndarray, k: int, rng: np.random.Generator) -> ActivityHMM:
    if len(points) > 20_000:
        points = points[rng.choice(len(points), 20_000, replace=False)]
    logged = np.column_stack([np.log1p(points[:, 0]), points[:, 1]])
    centres = KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit(logged).cluster_centers_
    buying = points[points[:, 0] > 0, 1]
    off = 0.2 / max(k - 1, 1)
    transmat = np.full((k, k), off) + np.eye(k) * (0.8 - off)
    return ActivityHMM(
        startprob=np.full(k, 1.0 / k),
        transmat=transmat / transmat.sum(1, keepdims=True),
        rates=np.clip(np.expm1(centres[:, 0]), MIN_RATE, None),
        means=np.where(centres[:, 0] > 0.1, centres[:, 1], buying.mean() if len(buying) else 0.0),
        variances=np.full(k, (buying.var() if len(buying) > 1 else 1.0) + MIN_VARIANCE),
    )


def _m_step(X: np.ndarray, gamma: np.ndarray, xi: np.ndarray, previous: ActivityHMM) -> ActivityHMM:
    """Time-major X (T, N, D) and gamma (T, N, K): every sequence starts at t = 0."""
    start = gamma[0].sum(0)
    weight = gamma.sum((0, 1))
    rates = np.tensordot(gamma, X[..., 0], axes=([0, 1], [0, 1])) / np.where(weight > 0, weight, 1.0)
    buying = gamma * (X[..., 0] > 0)[..., None]  # spend is read in periods with purchases only
    spend_weight = buying.sum((0, 1))
    safe = np.where(spend_weight > 0, spend_weight, 1.0)
    means = np.tensordot(buying, X[..., 1], axes=([0, 1], [0, 1])) / safe
    second = np.tensordot(buying, X[..., 1] ** 2, axes=([0, 1], [0, 1])) / safe
    variances = np.clip(second - means**2, 0, None) + MIN_VARIANCE
    # a state that (almost) never buys keeps its spend parameters: there is nothing to learn them from
    seen = spend_weight > 1e-6
    rows = xi.sum(1, keepdims=True)
    transmat = np.where(rows > 0, xi / np.where(rows > 0, rows, 1.0), 1.0 / len(start))
    return ActivityHMM(
        startprob=start / start.sum(),
        transmat=transmat,
        rates=np.clip(rates, MIN_RATE, None),
        means=np.where(seen, means, previous.means),
        variances=np.where(seen, variances, previous.variances),
    )


def fit(
    X: np.ndarray,
    mask: np.ndarray,
    n_states: int,
    seed: int = 0,
    n_init: int = 3,
    n_iter: int = 200,
    tol: float = 1e-4,
) -> tuple[ActivityHMM, float]:
    """Baum-Welch from ``n_init`` k-means starts; the best by log-likelihood and its log L.
    Stops when the log-likelihood per observation improves by less than ``tol``."""
    rng = np.random.default_rng(seed)
    observations = max(int(mask.sum()), 1)
    points = X[mask]  # the starts read customer-periods, whatever their layout
    X, mask = np.ascontiguousarray(np.swapaxes(X, 0, 1)), np.ascontiguousarray(mask.T)
    best: tuple[ActivityHMM, float] | None = None
    for _ in range(n_init):
        model = _initial(points, n_states, rng)
        previous = -np.inf
        for _ in range(n_iter):
            loglik, _, gamma, xi = _time_major(model, X, mask)
            total = float(loglik.sum())
            assert xi is not None
            model = _m_step(X, gamma, xi, model)
            if (total - previous) / observations < tol:
                break
            previous = total
        final = float(_time_major(model, X, mask, backward=False)[0].sum())
        if best is None or final > best[1]:
            best = (model, final)
    assert best is not None
    return best
