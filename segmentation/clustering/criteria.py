"""Model-based criteria for choosing among clusterings: ICL for mixtures, and a Gaussian BIC that
reads any hard partition as a mixture so a mixture and a partition can be compared.

Both are on scikit-learn's BIC scale, ``-2 log L + p log n`` (lower is better), where ``p``
counts a full-covariance Gaussian mixture's free parameters: ``k - 1`` weights, ``k·d`` means and
``k·d(d+1)/2`` covariance entries.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy
from scipy.stats import multivariate_normal

# scikit-learn's GaussianMixture adds this to every covariance diagonal; so do we, so a segment
# whose customers share one value in a column reads the same way in both.
REG_COVAR = 1e-6


def posterior_entropy(probabilities: np.ndarray) -> float:
    """``-sum_i sum_c t_ic log t_ic`` over the rows' membership probabilities (0 log 0 = 0)."""
    return float(-xlogy(probabilities, probabilities).sum())


def icl(bic: float, probabilities: np.ndarray) -> float:
    """The integrated completed likelihood (Biernacki, Celeux & Govaert 2000) in BIC form:
    ``BIC + 2·entropy`` of the posterior memberships. It is BIC with a penalty for overlapping
    components, so it prefers mixtures whose customers each clearly belong to one segment."""
    return float(bic + 2.0 * posterior_entropy(np.asarray(probabilities, dtype=float)))


def mixture_parameters(k: int, dimensions: int) -> int:
    """Free parameters of a full-covariance Gaussian mixture with ``k`` components."""
    return (k - 1) + k * dimensions + k * dimensions * (dimensions + 1) // 2


def gaussian_bic(X: np.ndarray, labels: np.ndarray) -> float | None:
    """The BIC of a partition read as a hard Gaussian mixture (the classification likelihood):
    each segment a full-covariance Gaussian fitted to its members, weighted by its share,
    ``-2 sum_i log(w_c N(x_i | m_c, S_c)) + p log n`` over the segmented rows (noise left out).

    For a well-separated mixture this is close to the mixture's ICL, so the two compare on one
    scale. None with fewer than two segments or a segment too small to estimate a covariance.
    """
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    labels = np.asarray(labels)
    kept = labels >= 0
    X, labels = X[kept], labels[kept]
    segments = np.unique(labels)
    n, dimensions = X.shape
    if len(segments) < 2 or n == 0:
        return None
    log_likelihood = 0.0
    for segment in segments:
        members = X[labels == segment]
        if len(members) < 2:
            return None
        covariance = np.atleast_2d(np.cov(members, rowvar=False, bias=True))
        covariance = covariance + REG_COVAR * np.eye(dimensions)
        density = multivariate_normal(mean=members.mean(axis=0), cov=covariance, allow_singular=True)
        log_likelihood += float(density.logpdf(members).sum()) + len(members) * np.log(len(members) / n)
    return float(-2.0 * log_likelihood + mixture_parameters(len(segments), dimensions) * np.log(n))
