"""Is there anything to segment? A test of cluster structure against a null reference.

Any clustering algorithm returns k groups when asked for k, uniform noise included; the groups
are only worth naming when the data is more clustered than structureless data of the same
shape. Two measurements, run on the clustering space before anything is named:

* the gap statistic (Tibshirani, Walther and Hastie 2001): for each k, the log of the k-means
  within-cluster dispersion W_k of the data against its mean over ``REFERENCES`` uniform samples
  drawn in the box of the data's principal components (the PCA-aligned reference, their
  reference (b)). Gap(k) = mean(log W*_k) - log W_k, with s_k = sd(log W*_k) * sqrt(1 + 1/B).
  Tibshirani's rule takes the smallest k with Gap(k) >= Gap(k + 1) - s_{k+1}. Skewed data sits
  unevenly in its box, which lifts Gap(1) and can make k = 1 a local maximum although the gap
  climbs far higher later (customer tables of gamma-shaped spend do this); so when the gap's
  highest value exceeds Gap(1) by at least ``MIN_RISE`` in log dispersion and ``MIN_RISE_SE``
  standard errors, the chosen k is the smallest within one standard error of that maximum
  (the "global SE max" rule). Only a k whose k-means partition gives every group the
  half the platform's minimum segment size (:func:`segmentation.bounds.min_segment_size`, scaled to the
  rows tested, halved) can be chosen: on a heavy-tailed column left unlogged, k-means peels off a few
  extreme customers and the gap climbs with every k. Measured: unimodal skewed data (log-normal,
  exponential) at 500 rows or more rises by under 0.1, planted groups by 0.5 or more. Chosen
  k = 1 means the data is no more clustered than the reference.
* a Gaussian mixture's BIC over k = 1..K (full covariances, scikit-learn's
  ``GaussianMixture.bic``): k = 1 best means a single bell explains the data as well as any
  mixture does, once the mixture pays for its extra parameters.
* Hartigan's dip test of unimodality on the leading principal components
  (:mod:`segmentation.clustering.unimodality`): a rejection means a second mode along a direction.

The verdict:

* ``clustered`` when the gap picks k > 1 and the BIC or the dip test agrees;
* ``weak`` when the gap picks k > 1 alone, or picks k = 1 while the dip test finds a second mode
  along a leading component (groups the box reference hides, as when one long axis dominates);
* ``none`` otherwise: the gap picks k = 1 and no component is multimodal. BIC alone never
  establishes structure: a mixture of bells fits any non-bell shape, a box of uniform noise
  included, better than one bell.

Large tables are subsampled (``SAMPLE_ROWS``); every random step takes the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ..bounds import min_segment_size
from .sampling import sample_rows
from .unimodality import dip_evidence

VERDICTS = ("clustered", "weak", "none")
REFERENCES = 10
SAMPLE_ROWS = 1_000
# k = 1..MAX_K is tested: enough to see a structure that exists; the sweep chooses the final k.
MAX_K = 8
KMEANS_INITS = 3
MIN_RISE = 0.25
MIN_RISE_SE = 3.0


@dataclass(frozen=True)
class Gap:
    """The gap statistic per k (``ks`` = 1..K): ``log_w`` of the data, ``reference_log_w`` the mean
    over the references, ``gap`` and its standard error ``s``, and Tibshirani's chosen ``k``."""

    ks: tuple[int, ...]
    log_w: tuple[float, ...]
    reference_log_w: tuple[float, ...]
    gap: tuple[float, ...]
    s: tuple[float, ...]
    k: int
    rise: float = 0.0
    too_small: tuple[int, ...] = ()  # k whose partition has a group under the minimum size


def within_dispersion(points: np.ndarray, labels: np.ndarray) -> float:
    """W_k = sum over clusters of the squared distances of members to their cluster's mean
    (equal to Tibshirani's sum over clusters of D_r / 2 n_r)."""
    total = 0.0
    for label in np.unique(labels):
        members = points[labels == label]
        total += float(((members - members.mean(axis=0)) ** 2).sum())
    return total


def pca_box_reference(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform sample of the data's size in the box of its principal components, rotated back."""
    centre = points.mean(axis=0)
    _, _, components = np.linalg.svd(points - centre, full_matrices=False)
    rotated = (points - centre) @ components.T
    uniform = rng.uniform(rotated.min(axis=0), rotated.max(axis=0), size=rotated.shape)
    return uniform @ components + centre


def _partition(points: np.ndarray, k: int, random_state: int) -> np.ndarray:
    if k == 1:
        return np.zeros(len(points), dtype=int)
    return KMeans(k, n_init=KMEANS_INITS, random_state=random_state).fit_predict(points)


def _log_w(points: np.ndarray, labels: np.ndarray) -> float:
    return float(np.log(max(within_dispersion(points, labels), 1e-300)))


def gap_statistic(
    points: np.ndarray,
    *,
    max_k: int = MAX_K,
    references: int = REFERENCES,
    random_state: int = 0,
    min_size: int = 1,
) -> Gap:
    """The gap statistic for k = 1..max_k (see the module docstring). The references are drawn
    from ``np.random.default_rng(random_state)`` one after the other, so a caller can redraw them.

    Only a k whose k-means partition of the data gives every group at least ``min_size`` rows can
    be chosen: on heavy-tailed data the gap keeps climbing as k-means peels off a handful of
    extreme customers, which is a tail, not a group (measured on raw log-normal columns, 60–300
    rows: a rise of 0.25–0.53 from groups of one to five customers)."""
    points = np.asarray(points, dtype=float)
    rng = np.random.default_rng(random_state)
    ks = tuple(range(1, max_k + 1))
    reference_samples = [pca_box_reference(points, rng) for _ in range(references)]
    partitions = [_partition(points, k, random_state) for k in ks]
    log_w = [_log_w(points, labels) for labels in partitions]
    reference = np.array(
        [[_log_w(sample, _partition(sample, k, random_state)) for k in ks] for sample in reference_samples]
    )
    mean = reference.mean(axis=0)
    s = reference.std(axis=0) * np.sqrt(1 + 1 / references)
    gap = mean - np.array(log_w)
    allowed = [i for i, labels in enumerate(partitions) if i == 0 or np.bincount(labels).min() >= min_size]
    chosen = next(
        (ks[i] for i, j in pairwise(allowed) if gap[i] >= gap[j] - s[j]),
        ks[allowed[-1]],
    )
    top = max(allowed, key=lambda i: gap[i])
    rise = float(gap[top] - gap[0])
    if chosen == 1 and rise >= MIN_RISE and rise >= MIN_RISE_SE * s[top]:
        chosen = next(ks[i] for i in allowed if gap[i] >= gap[top] - s[top])
    return Gap(
        ks=ks,
        log_w=tuple(log_w),
        reference_log_w=tuple(float(v) for v in mean),
        gap=tuple(float(v) for v in gap),
        s=tuple(float(v) for v in s),
        k=chosen,
        rise=rise,
        too_small=tuple(k for i, k in enumerate(ks) if i not in allowed),
    )


def mixture_bic(points: np.ndarray, *, max_k: int = MAX_K, random_state: int = 0) -> dict[int, float]:
    """BIC of a full-covariance Gaussian mixture per k = 1..max_k (lower is better)."""
    points = np.asarray(points, dtype=float)
    return {
        k: float(
            GaussianMixture(k, covariance_type="full", random_state=random_state).fit(points).bic(points)
        )
        for k in range(1, max_k + 1)
    }


def structure_test(space: np.ndarray, *, random_state: int = 0, max_k: int = MAX_K) -> dict[str, Any]:
    """``{"verdict": "clustered" | "weak" | "none", "evidence": {...}}`` for the rows of ``space``.

    ``max_k`` is lowered so every tested k leaves at least two rows per cluster. The evidence
    holds the rows tested, the gap statistic per k and its chosen k, the BIC per k and its best,
    and the dip test per leading principal component.
    """
    points = np.asarray(space, dtype=float).reshape(len(space), -1)
    rows = sample_rows(len(points), SAMPLE_ROWS, random_state)
    sample = points[rows] if len(points) > SAMPLE_ROWS else points
    max_k = max(2, min(max_k, len(sample) // 2))
    # One thread: on a shared machine k-means' thread pool costs more than it saves at this size.
    with threadpool_limits(limits=1):
        gap = gap_statistic(
            sample,
            max_k=max_k,
            random_state=random_state,
            min_size=_sample_min_size(len(points), len(sample)),
        )
        bic = mixture_bic(sample, max_k=max_k, random_state=random_state)
    dip = dip_evidence(sample, random_state=random_state)
    bic_k = min(bic, key=lambda k: (bic[k], k))
    verdict = structure_verdict(gap_k=gap.k, bic_k=bic_k, multimodal=dip.multimodal)
    return {
        "verdict": verdict,
        "evidence": {
            "rows_tested": len(sample),
            "references": REFERENCES,
            "gap": {
                "k": gap.k,
                "rise": round(gap.rise, 6),
                "groups_too_small_at_k": list(gap.too_small),
                "by_k": [
                    {"k": k, "gap": round(g, 6), "s": round(s, 6)}
                    for k, g, s in zip(gap.ks, gap.gap, gap.s, strict=True)
                ],
            },
            "bic": {"k": bic_k, "by_k": [{"k": k, "bic": round(v, 3)} for k, v in bic.items()]},
            "dip": dip.as_dict(),
        },
    }


def _sample_min_size(customers: int, sampled: int) -> int:
    """Half the platform's minimum segment size, scaled to the rows tested: a group smaller than
    the platform would deliver can still show that structure exists (at 60 customers a planted
    group of 11 is often split unevenly by k-means), while the tails it guards against are peeled
    off one to five customers at a time."""
    return max(1, math.ceil(min_segment_size(customers) * sampled / customers / 2))


def structure_verdict(*, gap_k: int, bic_k: int, multimodal: bool) -> str:
    """The verdict from the three measurements (the rule in the module docstring)."""
    if gap_k > 1:
        return "clustered" if bic_k > 1 or multimodal else "weak"
    return "weak" if multimodal else "none"


def structure_sentence(structure: dict[str, Any]) -> str:
    """The verdict and its evidence in words, for the results page, the deck and the report."""
    verdict = structure.get("verdict")
    evidence = structure.get("evidence") or {}
    gap_k = (evidence.get("gap") or {}).get("k")
    bic_k = (evidence.get("bic") or {}).get("k")
    tested = evidence.get("rows_tested")
    measured = (
        f"Against {evidence.get('references', REFERENCES)} samples of uniform random data in the same "
        f"principal-component box ({tested:,} customers tested), the gap statistic finds "
        f"{_groups(gap_k)}; a Gaussian mixture's BIC is best with {_groups(bic_k)}."
        if isinstance(tested, int)
        else ""
    )
    dip = evidence.get("dip")
    if isinstance(dip, dict) and measured:
        measured += f" {_dip_sentence(dip)}"
    if verdict == "none":
        lead = (
            "No segmentation recommended: the data shows no more structure than random data of the "
            "same shape."
        )
    elif verdict == "weak" and gap_k == 1:
        lead = (
            "Weak structure: a second mode shows along a leading direction of the data, but as a whole "
            "it is no more clustered than random data of the same shape; treat the segments as a "
            "convenient split, not natural groups."
        )
    elif verdict == "weak":
        lead = (
            "Weak structure: the data is more clustered than random data of the same shape, but a "
            "single Gaussian mixture component explains it as well; treat the segments as a "
            "convenient split, not natural groups."
        )
    else:
        lead = "The data has cluster structure: it is more clustered than random data of the same shape."
    return f"{lead} {measured}".strip()


def _dip_sentence(dip: dict[str, Any]) -> str:
    components = [c for c in dip.get("by_component") or [] if isinstance(c, dict)]
    tested = [c for c in components if c.get("adjusted_p") is not None]
    if not tested:
        return "The dip test of unimodality could not be applied: the leading components hold too many tied values."
    alpha = dip.get("alpha", 0.05)
    modal = [c for c in tested if c["adjusted_p"] < alpha]
    if modal:
        first = min(modal, key=lambda c: c["adjusted_p"])
        return (
            f"Hartigan's dip test finds a second mode along principal component {first['component']} "
            f"(p = {_p_text(first['adjusted_p'])} after Holm's adjustment)."
        )
    return (
        f"Hartigan's dip test finds no second mode along the {len(tested)} leading principal "
        f"component{'s' if len(tested) > 1 else ''} tested."
    )


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _groups(k: Any) -> str:
    if not isinstance(k, int):
        return "an unknown number of groups"
    return "one group (no clusters)" if k == 1 else f"{k} groups"
