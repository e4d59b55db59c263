"""What a run hands to the platform: :class:`SegmentationResult`, and :class:`RunMetrics`, the
typed reading of the metrics it stores.

The metrics are stored as the JSON dict the engine wrote (``SegmentVersion.metrics``) and are
never rewritten, so versions made by any earlier engine keep their stored bytes. Readers go
through ``RunMetrics.from_dict(stored)``, which accepts the metrics of every engine version
since the foundation: keys an older engine never wrote read as the typed defaults documented on
each field. ``to_dict()`` gives back the stored dict unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from .explain.rules import RuleSet
from .lifecycle.report import LifecycleReport
from .metrics import reading as r
from .metrics.defaults import ColumnDefault, FieldDefaults, ReductionDefault
from .metrics.explain import Outcome, OutcomeSegment, OutOfTime, Rule, RuleCondition, Rules
from .metrics.lifecycle import Clv, Holdout, LifecycleSummary
from .metrics.quality import Affinity, DataQuality, TransactionDetails
from .metrics.selection import (
    Candidate,
    Dendrogram,
    Memberships,
    RunnerUp,
    Selected,
    StabilityPoint,
    stability_points,
)
from .metrics.space import Map2D, Maps, Space
from .metrics.structure import KCap, Structure
from .model.artefact import SegmentationModel
from .spec import SegmentationSpec

__all__ = [
    "Affinity",
    "Candidate",
    "Clv",
    "ColumnDefault",
    "DataQuality",
    "Dendrogram",
    "FieldDefaults",
    "Holdout",
    "KCap",
    "LifecycleSummary",
    "Map2D",
    "Maps",
    "Memberships",
    "OutOfTime",
    "Outcome",
    "OutcomeSegment",
    "ReductionDefault",
    "Rule",
    "RuleCondition",
    "Rules",
    "RunMetrics",
    "RunnerUp",
    "SegmentationResult",
    "Selected",
    "Space",
    "StabilityPoint",
    "Structure",
    "TransactionDetails",
]


@dataclass(frozen=True)
class RunMetrics(r.Stored):
    """A run's metrics, typed and read-only.

    Top-level figures as the foundation wrote them: ``customers`` segmented, ``rows`` read,
    ``features`` clustered on, each feature's ``population_means`` (after filling), ``missing``
    and ``unparsable`` cells per feature, and the ``k_range`` tried. The parts: every
    ``candidates`` of the sweep and the ``selected`` one, the ``data_quality`` report, the
    clustering ``space``, the exploration ``maps`` (None before they existed), the surrogate
    ``rules`` (None when no tree was grown), ``outcomes`` per outcome column, the
    ``out_of_time`` check of a log's behaviour after ``as_of``, and the
    ``transactions`` details of a log (empty for a customer table), the ``structure`` test's
    verdict (None before the test existed), the ``k_cap`` a small table put on 'k_max', and
    the ``defaults`` the engine chose from the data (None before it chose any, or when the user
    made every choice), a log's ``clv`` models and ``lifecycle`` report (None before the
    lifecycle models, for a customer table, or when the group was not computed).
    """

    input_kind: str = "customers"
    customers: int = 0
    rows: int = 0
    rows_without_id: int = 0
    features: tuple[str, ...] = ()
    population_means: dict[str, float] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    missing_total: int = 0
    unparsable: dict[str, int] = field(default_factory=dict)
    imputation: str = "median"  # every engine version imputed the feature's median
    k_range: tuple[int, int] | None = None
    silhouette_sample_size: int | None = None
    candidates: tuple[Candidate, ...] = ()
    selected: Selected = field(default_factory=Selected)
    stability: tuple[StabilityPoint, ...] = ()
    data_quality: DataQuality = field(default_factory=DataQuality)
    space: Space = field(default_factory=Space)
    maps: Maps | None = None
    rules: Rules | None = None
    outcomes: tuple[Outcome, ...] = ()
    out_of_time: OutOfTime = field(default_factory=OutOfTime)
    transactions: TransactionDetails = field(default_factory=TransactionDetails)
    structure: Structure = field(default_factory=Structure)
    k_cap: KCap = field(default_factory=KCap)
    defaults: FieldDefaults | None = None
    clv: Clv | None = None
    lifecycle: LifecycleSummary | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, stored: Any) -> RunMetrics:
        """Read stored metrics of any engine version; never raises (odd values read as defaults)."""
        d = r.mapping(stored)
        features = r.texts(d.get("features"))
        missing = r.counts(d.get("missing"))
        k_range = r.integers(d.get("k_range"))
        return cls(
            input_kind=r.text(d.get("input_kind"), "customers"),
            customers=r.integer(d.get("customers")),
            rows=r.integer(d.get("rows")),
            rows_without_id=r.integer(d.get("rows_without_id")),
            features=features,
            population_means=r.named_numbers(d.get("population_means")),
            missing=missing,
            missing_total=r.integer(d.get("missing_total"), sum(missing.values())),
            unparsable=r.counts(d.get("unparsable")),
            imputation=r.text(d.get("imputation"), "median"),
            k_range=(k_range[0], k_range[1]) if len(k_range) == 2 else None,
            silhouette_sample_size=r.optional_integer(d.get("silhouette_sample_size")),
            candidates=tuple(Candidate.from_dict(c) for c in r.records(d.get("candidates"))),
            selected=Selected.from_dict(d.get("selected")),
            stability=stability_points(d.get("stability")),
            data_quality=DataQuality.from_metrics(d),
            space=Space.from_dict(d.get("space"), features=len(features)),
            maps=Maps.from_dict(d.get("maps")),
            rules=Rules.from_dict(d.get("rules")),
            outcomes=tuple(Outcome.from_dict(o) for o in r.records(d.get("outcomes"))),
            out_of_time=OutOfTime.from_dict(d.get("out_of_time")),
            transactions=TransactionDetails.from_metrics(d),
            structure=Structure.from_dict(d.get("structure")),
            k_cap=KCap.from_dict(d.get("k_cap")),
            defaults=FieldDefaults.from_dict(d.get("defaults")),
            clv=Clv.from_dict(d.get("clv")),
            lifecycle=LifecycleSummary.from_dict(d.get("lifecycle")),
            raw=r.frozen_copy(dict(d)),
        )

    @property
    def selected_candidate(self) -> Candidate | None:
        """The candidate the selection chose (the first that matches, as the sweep lists them)."""
        return next((c for c in self.candidates if c.is_selected_by(self.selected)), None)

    @property
    def silhouette(self) -> float | None:
        """The selected solution's silhouette: the selected entry's, else its candidate's."""
        if self.selected.silhouette is not None:
            return self.selected.silhouette
        candidate = self.selected_candidate
        return None if candidate is None else candidate.silhouette

    @property
    def selected_stability(self) -> float | None:
        """The selected solution's bootstrap stability: the selected entry's, else its candidate's."""
        if self.selected.stability is not None:
            return self.selected.stability
        candidate = self.selected_candidate
        return None if candidate is None else candidate.stability

    def runner_up(self) -> Candidate | None:
        """The second choice: the one the selected entry names (the losing family's finalist),
        else the best other candidate with a silhouette, by the combined score when the sweep
        scored candidates, else by silhouette (ties: the first listed)."""
        named = self.selected.runner_up
        if named is not None:
            as_selected = Selected(algorithm=named.algorithm, k=named.k)
            match = next((c for c in self.candidates if c.is_selected_by(as_selected)), None)
            if match is not None:
                return match
        others = [
            c for c in self.candidates if not c.is_selected_by(self.selected) and c.silhouette is not None
        ]
        if not others:
            return None
        key = "score" if any(c.score is not None for c in others) else "silhouette"

        def figure(candidate: Candidate) -> float:
            value = getattr(candidate, key)
            return -1e9 if value is None else value

        return max(others, key=figure)


@dataclass(frozen=True)
class SegmentationResult:
    """What a run produces: the model, one label per customer, the profile and the metrics.

    ``metrics`` is the JSON dict the platform stores as it is; read it through
    :attr:`metrics_view` (the same :class:`RunMetrics` a stored version gives with
    ``RunMetrics.from_dict(version.metrics)``).
    """

    spec: SegmentationSpec
    model: SegmentationModel
    labels: pd.DataFrame  # customer_id, segment (and membership for mixtures)
    profile: pd.DataFrame
    metrics: dict[str, Any]
    # customer_id + every feature before scaling (the features.csv deliverable)
    features: pd.DataFrame | None = None
    # customer_id + protected and outcome columns, kept for bias audits and external validation
    attributes: pd.DataFrame | None = None
    # the decision-tree surrogate that explains the segments in the customer's own units
    rules: RuleSet | None = None
    # the features the clustering saw (numeric and categorical), a subset of ``features``' columns
    clustered_features: tuple[str, ...] = ()
    # a log's cohorts, CLV by segment, lifecycle states and likely movers (None for a customer table)
    lifecycle: LifecycleReport | None = None

    @cached_property
    def metrics_view(self) -> RunMetrics:
        return RunMetrics.from_dict(self.metrics)
