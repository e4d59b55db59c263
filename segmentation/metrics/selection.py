"""The sweep's part of the metrics: every candidate, the selected one and its stability.

Written by :mod:`segmentation.clustering.sweep` (``candidates``, ``selected``) and the pipeline
(``selected.assignment``, ``selected.memberships``). The foundation's engine wrote K-Means
candidates only, with ``inertia`` and without stability, and chose by the highest silhouette.
Engines before the family rule wrote no ``family``, ``icl``, ``pac`` or ``gaussian_bic`` on
candidates and no full-size stability (``stability_interval``, ``stability_rows``, per-segment
``segment_jaccard``) on the selected entry; those read as None or empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import reading as r


@dataclass(frozen=True)
class Candidate(r.Stored):
    """One algorithm at one k, with its validity figures (None: not measured or undefined)."""

    algorithm: str | None = None
    k: int | None = None
    silhouette: float | None = None
    davies_bouldin: float | None = None
    calinski_harabasz: float | None = None
    stability: float | None = None  # mean bootstrap adjusted Rand
    score: float | None = None  # the combined rule's score; absent under the silhouette rule
    smallest_share: float | None = None
    noise_share: float | None = None  # density methods only
    dbcv: float | None = None  # density methods, and the finalists the family rule compared with one
    bic: float | None = None  # mixtures only
    icl: float | None = None  # mixtures only: BIC + 2 x entropy of the memberships
    pac: float | None = None  # proportion of ambiguous pairs in consensus; not for density methods
    gaussian_bic: float | None = None  # the partition read as a hard Gaussian mixture (finalists)
    family: str = ""  # "partition", "mixture" or "density": whose criterion judged it
    inertia: float | None = None  # the foundation's K-Means only
    segment_jaccard: dict[int, float] = field(default_factory=dict)
    note: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Candidate:
        d = r.mapping(data)
        figures = {
            key: r.number(d.get(key))
            for key in (
                "silhouette",
                "davies_bouldin",
                "calinski_harabasz",
                "stability",
                "score",
                "smallest_share",
                "noise_share",
                "dbcv",
                "bic",
                "icl",
                "pac",
                "gaussian_bic",
                "inertia",
            )
        }
        return cls(
            algorithm=r.optional_text(d.get("algorithm")),
            k=r.optional_integer(d.get("k")),
            family=r.text(d.get("family")),
            segment_jaccard=r.per_segment(d.get("segment_jaccard")),
            note=r.text(d.get("note")),
            raw=r.frozen_copy(dict(d)),
            **figures,
        )

    def is_selected_by(self, selected: Selected) -> bool:
        """Whether this is the selected candidate: the same k, and the same algorithm where
        both name one (the foundation's selected entry always did)."""
        if self.k is None or self.k != selected.k:
            return False
        return selected.algorithm is None or self.algorithm in (None, selected.algorithm)


@dataclass(frozen=True)
class Dendrogram(r.Stored):
    """The top of a hierarchical winner's merge tree (:mod:`segmentation.clustering.dendrogram`)."""

    linkage: str = ""
    rows: int = 0
    merges: tuple[tuple[int, int, float, int], ...] = ()  # scipy linkage rows: left, right, height, size
    leaf_sizes: tuple[int, ...] = ()
    cut: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Dendrogram | None:
        d = r.mapping(data)
        if not d:
            return None
        merges: list[tuple[int, int, float, int]] = []
        for row in r.items(d.get("merges")):
            cells = r.items(row) + [None] * 4
            left, right, size = (r.optional_integer(cells[i]) for i in (0, 1, 3))
            height = r.number(cells[2])
            if left is not None and right is not None and size is not None and height is not None:
                merges.append((left, right, height, size))
        return cls(
            linkage=r.text(d.get("linkage")),
            rows=r.integer(d.get("rows")),
            merges=tuple(merges),
            leaf_sizes=r.integers(d.get("leaf_sizes")),
            cut=r.number(d.get("cut")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Memberships(r.Stored):
    """How sure a mixture is of its customers' segments."""

    mean: float | None = None
    uncertain_threshold: float | None = None
    uncertain_share: float | None = None  # customers placed with less than the threshold
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Memberships | None:
        d = r.mapping(data)
        if not d:
            return None
        return cls(
            mean=r.number(d.get("mean")),
            uncertain_threshold=r.number(d.get("uncertain_threshold")),
            uncertain_share=r.number(d.get("uncertain_share")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class RunnerUp(r.Stored):
    """The candidate that came second: the losing family's finalist under the family rule."""

    algorithm: str | None = None
    k: int | None = None
    family: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> RunnerUp | None:
        d = r.mapping(data)
        if not d:
            return None
        return cls(
            algorithm=r.optional_text(d.get("algorithm")),
            k=r.optional_integer(d.get("k")),
            family=r.text(d.get("family")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class Selected(r.Stored):
    """The selected candidate's entry: what won, why, and how customers are assigned.

    ``rule`` defaults to ``"silhouette"``: versions before the sweep wrote no rule and chose by
    the highest silhouette. ``silhouette`` and ``stability`` are as stored here; the run's
    figures, with the candidate's as fallback, are :attr:`RunMetrics.silhouette` and
    :attr:`RunMetrics.selected_stability`. Since the family rule, ``stability`` is measured on
    ``stability_resamples`` resamples of ``stability_rows`` rows each (the whole sweep), with its
    95% percentile ``stability_interval``, and each segment's Jaccard with its interval, keyed by
    the delivered segment number; the candidate's ``stability`` is the cheaper screening figure.
    """

    algorithm: str | None = None
    k: int | None = None
    reason: str = ""
    rule: str = "silhouette"
    silhouette: float | None = None
    stability: float | None = None
    stability_interval: tuple[float, float] | None = None
    stability_rows: int | None = None
    stability_resamples: int | None = None
    segment_jaccard: dict[int, float] = field(default_factory=dict)
    segment_jaccard_interval: dict[int, tuple[float, float]] = field(default_factory=dict)
    family: str = ""  # the winning family under the family rule
    runner_up: RunnerUp | None = None
    silhouette_sample_size: int | None = None
    note: str = ""
    sweep_sample: str = ""  # set when the sweep ran on a sample of the customers
    assignment: str = ""  # how new customers are labelled, as a sentence
    assignment_agreement: float | None = None
    consensus_index: float | None = None
    consensus_within: dict[int, float] = field(default_factory=dict)
    dendrogram: Dendrogram | None = None
    memberships: Memberships | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> Selected:
        d = r.mapping(data)
        return cls(
            algorithm=r.optional_text(d.get("algorithm")),
            k=r.optional_integer(d.get("k")),
            reason=r.text(d.get("reason")),
            rule=r.text(d.get("rule"), "silhouette"),
            silhouette=r.number(d.get("silhouette")),
            stability=r.number(d.get("stability")),
            stability_interval=r.interval(d.get("stability_interval")),
            stability_rows=r.optional_integer(d.get("stability_rows")),
            stability_resamples=r.optional_integer(d.get("stability_resamples")),
            segment_jaccard=r.per_segment(d.get("segment_jaccard")),
            segment_jaccard_interval=r.per_segment_intervals(d.get("segment_jaccard_interval")),
            family=r.text(d.get("family")),
            runner_up=RunnerUp.from_dict(d.get("runner_up")),
            silhouette_sample_size=r.optional_integer(d.get("silhouette_sample_size")),
            note=r.text(d.get("note")),
            sweep_sample=r.text(d.get("sweep_sample")),
            assignment=r.text(d.get("assignment")),
            assignment_agreement=r.number(d.get("assignment_agreement")),
            consensus_index=r.number(d.get("consensus_index")),
            consensus_within=r.per_segment(d.get("consensus_within")),
            dendrogram=Dendrogram.from_dict(d.get("dendrogram")),
            memberships=Memberships.from_dict(d.get("memberships")),
            raw=r.frozen_copy(dict(d)),
        )


@dataclass(frozen=True)
class StabilityPoint:
    """Stability at one k, from a top-level ``stability`` entry."""

    k: int
    score: float


def stability_points(raw: Any) -> tuple[StabilityPoint, ...]:
    """Stability per k in either shape the portal has accepted: a list of ``{"k": .., <figure>}``
    (the first number other than k is the score) or a mapping ``{"3": 0.9}``; sorted by k.

    No engine version has written this key (each candidate carries its own ``stability``), so
    for every stored version this is empty; it is read because the portal reads it.
    """
    points: list[tuple[int, float]] = []
    for item in r.records(raw):
        k = r.optional_integer(item.get("k"))
        score = next((r.number(v) for key, v in item.items() if key != "k" and r.number(v) is not None), None)
        if k is not None and score is not None:
            points.append((k, score))
    for key, value in r.mapping(raw).items():
        score = r.number(value)
        if str(key).isdigit() and score is not None:
            points.append((int(key), score))
    return tuple(StabilityPoint(k, score) for k, score in sorted(points))
