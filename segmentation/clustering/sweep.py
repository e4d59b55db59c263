"""Run several clustering algorithms over a k range side by side, validate each, pick one.

All candidates are measured in one space so they can be compared: the standardised numeric
columns, plus for categorical columns a one-hot block scaled by 1/√2 (two customers with
different levels then differ by 1 in squared distance, as a one-standard-deviation numeric gap
does). Silhouette uses one shared 10,000-row sample for every candidate; Davies–Bouldin and
Calinski–Harabasz use every row; stability refits on resamples of at most 2,000 rows (screening),
and the winner's reported stability refits on resamples of every sweep row, with a bootstrap
interval (:mod:`segmentation.clustering.figures`). Above ``SWEEP_ROWS`` customers all of this
runs on a seeded sample and only the winner labels everyone.

Per-segment figures (``segment_jaccard``, its ``segment_jaccard_interval``, ``consensus_within``)
are keyed by segment number,
segments numbered by size, largest first, as the pipeline delivers them; the pipeline then
re-keys the winner's by the numbers its model actually gives (:meth:`SweepResult.numbered`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import SegmentationError
from .algorithms import ALGORITHMS, FINDS_K, MIXED, make_estimator
from .dendrogram import dendrogram_summary
from .figures import candidate_pac, comparisons, full_size_stability, mixture_icl
from .gower import encode_categories
from .numbering import intervals_by_number, json_safe, keyed_by_number, size_order
from .sampling import sample_rows
from .selection import family, select_with_runner_up
from .stability import bootstrap_stability, consensus
from .validation import (
    SILHOUETTE_SAMPLE,
    calinski_harabasz,
    davies_bouldin,
    dbcv,
    noise_share,
    silhouettes,
)

Progress = Callable[[str, float], None]
NUMERIC_DEFAULT = ("kmeans", "gmm", "hdbscan")
MIXED_DEFAULT = ("kprototypes", "gower_agglomerative")
# Candidates are fitted and compared on at most this many customers; only the winner then
# labels everyone, with its own predict. Centroids, mixture parameters and the validity indices
# are settled long before 50,000 rows, while fitting nineteen candidates and their stability on
# 200,000 costs minutes (per 100k rows and k: K-Means 0.3 s, a full-covariance mixture 1.3 s).
SWEEP_ROWS = 50_000
CONSENSUS_RESAMPLES = 20
# Stability refits run twenty times per candidate on a few thousand rows, where thread start-up
# costs more than it saves (10x slower on a busy two-core machine), so each runs on one thread.
# K-Means refits use 3 starts and mixture refits stop at a 10x looser tolerance (an overfitted
# mixture otherwise crawls through 20 EM steps): stability asks how the partition moves with the
# data, and the reference is the full fit.
REFIT_INITS = 3
FIT_FAILURES = (ValueError, np.linalg.LinAlgError)
REFIT_GMM_TOL = 1e-2
# Every fit runs on one thread: the sweep works on at most SWEEP_ROWS rows, where OpenMP/BLAS
# thread start-up and spinning cost more than they save. Measured on this 2-core machine under
# load: ten-start K-Means on 50k x 8, k = 4 and 8, 0.97 s on one thread against 9.9 s on two.


def _no_progress(step: str, fraction: float) -> None:
    return None


@dataclass
class SweepResult:
    """``candidates``: one dict per algorithm and k; ``selected``: the winner's algorithm, k,
    reason and figures; ``labels``: the winner's label per row (``-1`` = noise);
    ``estimator``: the fitted winner; ``space``: the matrix the metrics were computed in;
    ``winner_index``: the winner's place in ``candidates``; ``segment_figures``: the winner's
    per-segment figures by metric name, keyed by the clustering's own labels, and
    ``segment_intervals`` the 95% interval of its full-size Jaccard, keyed the same way."""

    candidates: list[dict[str, Any]]
    selected: dict[str, Any]
    labels: np.ndarray
    estimator: Any
    space: np.ndarray = field(repr=False)
    winner_index: int = 0
    segment_figures: dict[str, dict[int, float]] = field(default_factory=dict, repr=False)
    segment_intervals: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)

    @property
    def segments(self) -> np.ndarray:
        """The winner's segments in label order, the order the model's assigner numbers them 0..k-1."""
        return np.unique(self.labels[self.labels >= 0])

    def numbered(self, segments: Sequence[int] | np.ndarray) -> SweepResult:
        """This result with the winner's per-segment figures keyed by another numbering: number
        ``s`` is the clustering's segment ``segments[s]`` (for the pipeline, its delivered order)."""
        candidates, selected = list(self.candidates), dict(self.selected)
        if "segment_jaccard" in self.segment_figures:
            jaccard = keyed_by_number(self.segment_figures["segment_jaccard"], segments)
            candidates[self.winner_index] = {**candidates[self.winner_index], "segment_jaccard": jaccard}
        for name in ("consensus_within", "full_size_jaccard"):
            if name in self.segment_figures:
                key = "segment_jaccard" if name == "full_size_jaccard" else name
                selected[key] = keyed_by_number(self.segment_figures[name], segments)
        if self.segment_intervals:
            selected["segment_jaccard_interval"] = intervals_by_number(self.segment_intervals, segments)
        return replace(self, candidates=candidates, selected=selected)


def default_algorithms(has_categorical: bool) -> list[str]:
    return list(MIXED_DEFAULT if has_categorical else NUMERIC_DEFAULT)


def _metric_space(numeric: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    if codes is None or codes.shape[1] == 0:
        return numeric
    blocks = [numeric]
    for j in range(codes.shape[1]):
        levels = np.unique(codes[:, j][codes[:, j] >= 0])
        blocks.append((codes[:, j][:, None] == levels[None, :]) / np.sqrt(2.0))
    return np.hstack(blocks)


class _Fitter:
    """Fits one algorithm the same way for the full run and for every resample."""

    def __init__(self, name: str, k: int | None, n_numeric: int, random_state: int) -> None:
        self.name, self.k, self.n_numeric, self.random_state = name, k, n_numeric, random_state

    def fit(self, rows: np.ndarray, seed: int) -> tuple[Any, np.ndarray, str]:
        estimator = make_estimator(self.name, self.k, random_state=seed, n_numeric=self.n_numeric)
        estimator.fit(rows)
        labels = estimator.labels_ if hasattr(estimator, "labels_") else estimator.predict(rows)
        return estimator, np.asarray(labels, dtype=np.int64), getattr(estimator, "note_", "")

    def refit(self, rows: np.ndarray, seed: int) -> np.ndarray:
        """Labels of a fresh fit on a resample: cheaper starts, one thread (see REFIT_*)."""
        estimator = make_estimator(self.name, self.k, random_state=seed, n_numeric=self.n_numeric)
        if self.name in ("kmeans", "minibatch_kmeans"):
            estimator.set_params(n_init=REFIT_INITS)
        elif self.name == "gmm":
            estimator.set_params(tol=REFIT_GMM_TOL)
        try:
            with threadpool_limits(limits=1):
                estimator.fit(rows)
        except FIT_FAILURES:
            # A resample the algorithm cannot fit (a mixture component collapsing onto repeated
            # rows) counts as a resample that did not reproduce the segments: all noise.
            return np.full(len(rows), -1, dtype=np.int64)
        labels = estimator.labels_ if hasattr(estimator, "labels_") else estimator.predict(rows)
        return np.asarray(labels, dtype=np.int64)


def sweep(
    numeric: np.ndarray,
    *,
    categorical: np.ndarray | None = None,
    algorithms: list[str] | None = None,
    k_min: int = 2,
    k_max: int = 8,
    random_state: int = 0,
    stability_resamples: int = 20,
    selection: str = "combined",
    progress: Progress = _no_progress,
) -> SweepResult:
    """Fit every algorithm (per k in ``k_min..k_max``, once for density methods), validate, select.

    ``numeric`` holds standardised numeric columns; ``categorical`` raw categories (any values,
    ``None``/NaN = missing). Raises :class:`SegmentationError` on data that cannot be segmented
    (fewer customers than segments, all customers identical) and on unknown algorithm names.
    """
    with threadpool_limits(limits=1):
        return _sweep(
            numeric,
            categorical=categorical,
            algorithms=algorithms,
            k_min=k_min,
            k_max=k_max,
            random_state=random_state,
            stability_resamples=stability_resamples,
            selection=selection,
            progress=progress,
        )


def _sweep(
    numeric: np.ndarray,
    *,
    categorical: np.ndarray | None,
    algorithms: list[str] | None,
    k_min: int,
    k_max: int,
    random_state: int,
    stability_resamples: int,
    selection: str,
    progress: Progress,
) -> SweepResult:
    numeric = np.asarray(numeric, dtype=float).reshape(len(numeric), -1)
    codes = None
    if categorical is not None and np.asarray(categorical).size:
        codes = encode_categories(categorical)[0]
    n = len(numeric)
    names = list(algorithms) if algorithms else default_algorithms(codes is not None)
    unknown = [a for a in names if a not in ALGORITHMS]
    if unknown:
        raise SegmentationError(
            f"unknown algorithm(s): {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}"
        )
    if codes is None and any(a in MIXED for a in names):
        raise SegmentationError(
            f"{', '.join(a for a in names if a in MIXED)} need categorical columns: "
            "name them in 'categorical_columns' or choose a numeric algorithm"
        )
    space = _metric_space(numeric, codes)
    mixed_matrix = numeric if codes is None else np.hstack([numeric, codes])
    distinct = _distinct_rows(space)
    if distinct < 2:
        raise SegmentationError("every customer has the same values, so there is nothing to segment")
    if n <= k_min:
        raise SegmentationError(
            f"there are {n} customer(s) but at least {k_min} segments were asked for: "
            f"lower 'k_min' or supply more customers"
        )
    ks = [k for k in range(k_min, k_max + 1) if k < distinct]
    if not ks:
        raise SegmentationError(
            f"the customers have only {distinct} distinct combination(s) of values, too few to form {k_min} segments"
        )

    everyone_space, everyone_mixed = space, mixed_matrix
    sweep_rows = sample_rows(n, SWEEP_ROWS, random_state)
    if n > SWEEP_ROWS:
        space, mixed_matrix, n = space[sweep_rows], mixed_matrix[sweep_rows], SWEEP_ROWS
    jobs = [(a, None) if a in FINDS_K else (a, k) for a in names for k in ([None] if a in FINDS_K else ks)]
    candidates: list[dict[str, Any]] = []
    fitted: list[tuple[Any, np.ndarray, _Fitter]] = []
    jaccards: dict[int, dict[int, float]] = {}  # candidate index -> Jaccard by clustering label
    for step, (name, k) in enumerate(jobs):
        progress(f"clustering {name}" + (f" k={k}" if k else ""), step / len(jobs))
        fitter = _Fitter(name, k, numeric.shape[1], random_state)
        data = mixed_matrix if name in MIXED else space
        try:
            estimator, labels, note = fitter.fit(data, random_state)
        except FIT_FAILURES as error:
            candidates.append(
                {
                    "algorithm": name,
                    "k": k or 0,
                    "stability": None,
                    "eligible": False,
                    "note": f"could not be fitted: {error}",
                }
            )
            fitted.append((None, np.full(n, -1, dtype=np.int64), fitter))
            continue
        segments = np.unique(labels[labels >= 0])
        candidate: dict[str, Any] = {
            "algorithm": name,
            "k": len(segments),
            "davies_bouldin": davies_bouldin(space, labels),
            "calinski_harabasz": calinski_harabasz(space, labels),
        }
        counts = np.bincount(labels[labels >= 0]) if len(segments) else np.array([0])
        candidate["smallest_share"] = float(counts[counts > 0].min() / n) if len(segments) else 0.0
        if name == "gmm":
            candidate["bic"] = float(estimator.bic(space))
            candidate["icl"] = mixture_icl(estimator, space, candidate["bic"])
        if name in FINDS_K:
            candidate["noise_share"] = noise_share(labels)
            candidate["dbcv"] = dbcv(space, labels, random_state=random_state)
            if not k_min <= len(segments) <= k_max:
                candidate["eligible"] = False
                note = "; ".join(
                    filter(None, [note, f"found {len(segments)} segment(s), outside the requested k range"])
                )
        if stability_resamples > 0 and len(segments) >= 2:
            result = bootstrap_stability(
                data, labels, fitter.refit, resamples=stability_resamples, random_state=random_state
            )
            candidate["stability"] = result.mean_ari
            candidate["segment_jaccard"] = keyed_by_number(result.jaccard, size_order(labels))
            jaccards[len(candidates)] = result.jaccard
        else:
            candidate["stability"] = None
        if stability_resamples > 0 and len(segments) >= 2 and family(name) != "density":
            candidate["pac"] = candidate_pac(data, labels, fitter.refit, stability_resamples, random_state)
        if note:
            candidate["note"] = note
        candidates.append(candidate)
        fitted.append((estimator, labels, fitter))

    progress("validating", 0.95)
    scores = silhouettes(space, [labels for _, labels, _ in fitted], random_state=random_state)
    for candidate, score in zip(candidates, scores, strict=True):
        candidate["silhouette"] = score
    # Ineligible candidates compete without a silhouette; the others are the very dicts, so the
    # figures the rule computes for its finalists (family, DBCV, Gaussian BIC) land on them.
    judged = [c if c.get("eligible", True) else {**c, "silhouette": None} for c in candidates]
    label_sets = [labels for _, labels, _ in fitted]
    winner_index, reason, runner_index = select_with_runner_up(
        judged,
        selection,
        customers=len(everyone_space),
        compare=comparisons(judged, label_sets, space, random_state),
    )
    for c in candidates:
        c.pop("eligible", None)
    estimator, labels, fitter = fitted[winner_index]
    winner = candidates[winner_index]
    selected: dict[str, Any] = {
        "algorithm": winner["algorithm"],
        "k": winner["k"],
        "reason": reason,
        "rule": selection,
        "silhouette": winner["silhouette"],
        "stability": winner["stability"],
        "silhouette_sample_size": min(n, SILHOUETTE_SAMPLE),
    }
    if winner.get("family"):
        selected["family"] = winner["family"]
    if runner_index is not None:
        runner = candidates[runner_index]
        selected["runner_up"] = {"algorithm": runner["algorithm"], "k": runner["k"]}
        if runner.get("family"):
            selected["runner_up"]["family"] = runner["family"]
    if winner.get("note"):
        selected["note"] = winner["note"]
    segment_figures = {"segment_jaccard": jaccards[winner_index]} if winner_index in jaccards else {}
    segment_intervals: dict[int, tuple[float, float]] = {}
    if stability_resamples > 0 and winner["k"] >= 2:
        progress("stability of the winner on full-size resamples", 0.96)
        entries, full_jaccard, segment_intervals = full_size_stability(
            mixed_matrix if winner["algorithm"] in MIXED else space,
            labels,
            fitter.refit,
            stability_resamples,
            random_state,
        )
        selected.update(entries)
        selected["segment_jaccard"] = keyed_by_number(full_jaccard, size_order(labels))
        selected["segment_jaccard_interval"] = intervals_by_number(segment_intervals, size_order(labels))
        segment_figures["full_size_jaccard"] = full_jaccard
    if getattr(estimator, "children_", None) is not None:
        # A hierarchy: keep the top of its merge tree so the results page can draw it.
        selected["dendrogram"] = dendrogram_summary(
            estimator.children_,
            estimator.distances_,
            n_clusters=int(winner["k"]),
            # The Gower clusterer has no linkage parameter: it always uses average linkage.
            linkage=str(getattr(estimator, "linkage", "average")),
        )
    if len(everyone_space) > n:
        selected["sweep_sample"] = (
            f"candidates were fitted and compared on a random sample of {n:,} of {len(everyone_space):,} "
            "customers; the winner then labelled every customer with its own predict"
        )
    if stability_resamples > 0:
        agreement = consensus(
            mixed_matrix if winner["algorithm"] in MIXED else space,
            labels,
            fitter.refit,
            resamples=min(stability_resamples, CONSENSUS_RESAMPLES),
            random_state=random_state,
        )
        selected["consensus_index"] = agreement.index
        selected["consensus_within"] = keyed_by_number(agreement.within, size_order(labels))
        segment_figures["consensus_within"] = agreement.within
    if len(everyone_space) > n:
        everyone = everyone_mixed if winner["algorithm"] in MIXED else everyone_space
        labels = np.asarray(estimator.predict(everyone), dtype=np.int64)
        labels[sweep_rows] = fitted[winner_index][1]  # the sampled customers keep their fitted labels
        space = everyone_space
    progress("selected", 1.0)
    # Results are stored as JSON (PostgreSQL's jsonb refuses NaN): an undefined figure is None.
    candidates = [json_safe(c) for c in candidates]
    selected = json_safe(selected)
    return SweepResult(
        candidates=candidates,
        selected=selected,
        labels=labels,
        estimator=estimator,
        space=space,
        winner_index=winner_index,
        segment_figures=segment_figures,
        segment_intervals=segment_intervals,
    )


def _distinct_rows(matrix: np.ndarray) -> int:
    """Number of distinct rows, comparing each row's bytes (far faster than ``unique(axis=0)``)."""
    rows = np.ascontiguousarray(matrix + 0.0)  # + 0.0 turns -0.0 into 0.0
    return len(np.unique(rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()))
