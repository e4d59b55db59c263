"""A Gaussian hidden Markov model (diagonal covariances) fitted by Baum-Welch, vectorised over
customers.

hmmlearn fits the same model but loops over sequences in Python, which is slow for hundreds of
thousands of customers; here one step of the forward-backward recursion handles every customer
at once on sequences padded to the longest one (``mask`` marks the periods that exist). The
tests check the log-likelihood and posteriors against hmmlearn's for the same parameters.

Scaled recursions (Rabiner): ``alpha`` is the filtered posterior P(state_t | x_1..t), ``c_t``
the one-step predictive likelihood, so log L = Σ log c_t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans

MIN_COVAR = 1e-3  # added to every variance, as hmmlearn does: an idle state emits exactly (0, 0)


@dataclass(frozen=True)
class GaussianHMM:
    startprob: np.ndarray  # (K,)
    transmat: np.ndarray  # (K, K), rows sum to 1
    means: np.ndarray  # (K, D)
    variances: np.ndarray  # (K, D)

    @property
    def n_states(self) -> int:
        return len(self.startprob)

    def n_parameters(self) -> int:
        """Free parameters: K-1 start, K(K-1) transition, K·D means and K·D variances."""
        k, d = self.means.shape
        return (k - 1) + k * (k - 1) + 2 * k * d


def log_emissions(model: GaussianHMM, X: np.ndarray) -> np.ndarray:
    """log N(x | mean_k, diag var_k) for x of shape (..., D) -> (..., K)."""
    diff = X[..., None, :] - model.means
    return -0.5 * (np.log(2 * np.pi * model.variances).sum(-1) + (diff**2 / model.variances).sum(-1))


def forward_backward(
    model: GaussianHMM, X: np.ndarray, mask: np.ndarray, backward: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """X (N, T, D), mask (N, T), sequences left-aligned. Returns the per-customer log-likelihood
    (N,), the last filtered posterior (N, K), the smoothed posteriors gamma (N, T, K; zero on
    padding) and the summed expected transitions (K, K) when ``backward``."""
    n, t_max, _ = X.shape
    k = model.n_states
    logb = log_emissions(model, X)
    top = logb.max(-1, keepdims=True)
    b = np.exp(logb - top)
    alpha = np.empty((n, t_max, k))
    scale = np.ones((n, t_max))
    loglik = np.zeros(n)
    current = np.broadcast_to(model.startprob, (n, k))
    for t in range(t_max):
        predicted = current if t == 0 else current @ model.transmat
        joint = predicted * b[:, t]
        total = joint.sum(-1)
        valid = mask[:, t]
        safe = np.where(total > 0, total, 1.0)
        current = np.where(valid[:, None], joint / safe[:, None], current)
        alpha[:, t] = current
        scale[:, t] = np.where(valid, safe, 1.0)
        loglik += np.where(valid, np.log(safe) + top[:, t, 0], 0.0)
    last = current
    if not backward:
        return loglik, last, alpha, None
    beta = np.ones((n, k))
    gamma = np.zeros((n, t_max, k))
    xi = np.zeros((k, k))
    gamma[:, t_max - 1] = np.where(mask[:, t_max - 1, None], alpha[:, t_max - 1], 0.0)
    for t in range(t_max - 2, -1, -1):
        pair = mask[:, t + 1]  # a transition t -> t+1 exists
        weighted = b[:, t + 1] * beta / scale[:, t + 1, None]
        xi += model.transmat * ((alpha[:, t] * pair[:, None]).T @ weighted)
        beta = np.where(pair[:, None], weighted @ model.transmat.T, 1.0)
        g = alpha[:, t] * beta
        gamma[:, t] = np.where(mask[:, t, None], g / g.sum(-1, keepdims=True), 0.0)
    return loglik, last, gamma, xi


def _initial(X: np.ndarray, mask: np.ndarray, k: int, rng: np.random.Generator) -> GaussianHMM:
    points = X[mask]
    if len(points) > 20_000:
        points = points[rng.choice(len(points), 20_000, replace=False)]
    centres = KMeans(k, n_init=1, random_state=int(rng.integers(2**31))).fit(points).cluster_centers_
    variances = np.tile(points.var(0) + MIN_COVAR, (k, 1))
    transmat = np.full((k, k), 0.2 / max(k - 1, 1)) + np.eye(k) * (0.8 - 0.2 / max(k - 1, 1))
    return GaussianHMM(np.full(k, 1.0 / k), transmat / transmat.sum(1, keepdims=True), centres, variances)


def _m_step(X: np.ndarray, gamma: np.ndarray, xi: np.ndarray) -> GaussianHMM:
    start = gamma[:, 0].sum(0)
    weight = gamma.sum((0, 1))
    safe = np.where(weight > 0, weight, 1.0)
    means = np.tensordot(gamma, X, axes=([0, 1], [0, 1])) / safe[:, None]
    second = np.tensordot(gamma, X**2, axes=([0, 1], [0, 1])) / safe[:, None]
    variances = np.clip(second - means**2, 0, None) + MIN_COVAR
    rows = xi.sum(1, keepdims=True)
    transmat = np.where(rows > 0, xi / np.where(rows > 0, rows, 1.0), 1.0 / len(start))
    return GaussianHMM(start / start.sum(), transmat, means, variances)


def fit(
    X: np.ndarray,
    mask: np.ndarray,
    n_states: int,
    seed: int = 0,
    n_init: int = 3,
    n_iter: int = 200,
    tol: float = 1e-4,
) -> tuple[GaussianHMM, float]:
    """Baum-Welch from ``n_init`` k-means starts; the best by log-likelihood and its log L.
    Stops when the log-likelihood per observation improves by less than ``tol``."""
    rng = np.random.default_rng(seed)
    observations = max(int(mask.sum()), 1)
    best: tuple[GaussianHMM, float] | None = None
    for _ in range(n_init):
        model = _initial(X, mask, n_states, rng)
        previous = -np.inf
        for _ in range(n_iter):
            loglik, _, gamma, xi = forward_backward(model, X, mask)
            total = float(loglik.sum())
            assert xi is not None
            model = _m_step(X, gamma, xi)
            if (total - previous) / observations < tol:
                break
            previous = total
        final = float(forward_backward(model, X, mask, backward=False)[0].sum())
        if best is None or final > best[1]:
            best = (model, final)
    assert best is not None
    return best
