"""The run form: every key of the segmentation spec, grouped so that the defaults carry a first run.

Each field is named after the spec key it sets (a list key is a repeated field, ``transforms`` a
repeated ``column:transform``), so a run started from the portal, the API and the command line is
one spec. The engine validates it (:meth:`segmentation.SegmentationSpec.from_dict`); its message
is shown beside the field whose key it names. An expert may instead edit the spec as JSON
(``spec``), checked by the same code with the same messages.

Longer than 400 lines because every spec key is a field here, one per key, beside the summary
that says the spec in words; splitting them would separate a key from its wording.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms

from projects.models import Dataset
from segmentation import SegmentationError, SegmentationSpec, SpecError, check_bounds
from segmentation.bounds import MAX_CLUSTERS, MIN_CLUSTERS
from segmentation.clustering.algorithms import ALGORITHMS
from segmentation.clustering.sweep import default_algorithms
from segmentation.defaults import PCA_FEATURES
from segmentation.explain.vocabulary import DEFAULT_INDUSTRY, INDUSTRY_LABELS
from segmentation.spec import (
    DEFAULT_CLV_DISCOUNT_RATE,
    DEFAULT_CLV_HORIZON_DAYS,
    FEATURE_GROUPS,
    LIFECYCLE_PERIODS,
    MAX_CLV_HORIZON_DAYS,
    MAX_STABILITY_RESAMPLES,
    TRANSFORMS,
)

from .run_defaults import SINGLE_COLUMN_KEYS, profile_initials

# Keys of a customer table's own columns, and of a transaction log's; the other kind's are dropped.
CUSTOMER_KEYS = ("numeric_columns", "categorical_columns", "ordinal_columns", "date_columns", "transforms")
LOG_KEYS = (
    "timestamp_column",
    "amount_column",
    "quantity_column",
    "unit_price_column",
    "category_column",
    "as_of",
    "features",
    "drop_duplicates",
    "clv_horizon_days",
    "clv_discount_rate",
    "lifecycle_period",
)
ROLE_KEYS = ("numeric_columns", "categorical_columns", "ordinal_columns", "date_columns")
AUDIT_KEYS = ("protected_columns", "outcome_columns")
ROLE_LABELS = {
    "numeric_columns": "Number",
    "categorical_columns": "Category",
    "ordinal_columns": "Ordered",
    "date_columns": "Date",
    "protected_columns": "Protected",
    "outcome_columns": "Outcome",
}
# The groups of the form, in the order a consultant meets them (the template draws one box each).
GROUPS = {
    "data": ("input_kind", "protected_as_features", "excluded_features", "industry"),
    "log": LOG_KEYS,
    "space": ("default_transform", "reduction", "distance"),
    "algorithms": ("algorithms", "k_min", "k_max", "random_state"),
    "validation": ("selection", "stability_resamples"),
    "privacy": ("dp_epsilon", "dp_bounds"),
}
QUOTED = re.compile(r"'([a-z_]+)'")
# A post that leaves out one of these means its default (an API-like post, or an older page);
# tick boxes are different: left out means unticked.
DEFAULTED = (
    "input_kind",
    *GROUPS["space"],
    "selection",
    "stability_resamples",
    "industry",
    "lifecycle_period",
)


def _names(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class RunForm(forms.Form):
    input_kind = forms.ChoiceField(
        choices=[
            ("customers", "A customer table: one row per customer"),
            ("transactions", "A transaction log: one row per event"),
        ],
        widget=forms.RadioSelect,
        initial="customers",
        label="What one row is",
    )
    numeric_columns = forms.MultipleChoiceField(required=False, label="Numbers to cluster on")
    categorical_columns = forms.MultipleChoiceField(required=False, label="Categories to cluster on")
    ordinal_columns = forms.MultipleChoiceField(required=False, label="Ordered categories")
    date_columns = forms.MultipleChoiceField(required=False, label="Dates (their age in days)")
    protected_columns = forms.MultipleChoiceField(
        required=False,
        label="Protected attributes",
        help_text="Audited for bias; never features unless asked below.",
    )
    outcome_columns = forms.MultipleChoiceField(
        required=False,
        label="Outcomes",
        help_text="Churn, revenue…: checked against the segments, never features.",
    )
    protected_as_features = forms.BooleanField(
        required=False, label="Also cluster on the protected attributes"
    )
    excluded_features = forms.CharField(
        required=False,
        max_length=2000,
        label="Features to leave out",
        help_text="Comma-separated: columns ticked above, or a log's engineered features (monetary_total…), "
        "that the clustering must not use, such as the proxies a bias audit flagged.",
    )

    timestamp_column = forms.ChoiceField(required=False, label="Event time")
    amount_column = forms.ChoiceField(required=False, label="Amount (negative = refund)")
    quantity_column = forms.ChoiceField(required=False, label="Quantity")
    unit_price_column = forms.ChoiceField(required=False, label="Unit price")
    category_column = forms.ChoiceField(required=False, label="Product category")
    as_of = forms.DateField(
        required=False,
        label="As of",
        help_text="Features use only events before this day (default: the day after the last event).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    features = forms.MultipleChoiceField(
        required=False,
        choices=_names(FEATURE_GROUPS),
        widget=forms.CheckboxSelectMultiple,
        label="Feature groups",
        help_text="None ticked: every group the log supports but trajectory (the shape of activity "
        "over time, for time-aware segments). clv is profiled and delivered, never clustered on.",
    )
    drop_duplicates = forms.BooleanField(required=False, label="Drop exact duplicate rows")
    clv_horizon_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CLV_HORIZON_DAYS,
        initial=DEFAULT_CLV_HORIZON_DAYS,
        label="CLV horizon (days)",
        help_text="Customer lifetime value counts the purchases expected over this many days.",
    )
    clv_discount_rate = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=0.99,
        initial=DEFAULT_CLV_DISCOUNT_RATE,
        label="CLV discount rate (a year)",
        help_text="0.1 discounts a purchase a year away by 10%.",
    )
    lifecycle_period = forms.ChoiceField(
        choices=[(p, p) for p in LIFECYCLE_PERIODS],
        initial="month",
        label="Lifecycle period",
        help_text="The period of cohorts, lifecycle states and trajectories.",
    )

    transforms = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    default_transform = forms.ChoiceField(
        choices=[
            ("auto", "Automatic: log for a heavy right tail (money, counts), else z-score"),
            *[(t, t) for t in TRANSFORMS],
        ],
        initial="auto",
        label="Numbers without a transform of their own",
    )
    reduction = forms.ChoiceField(
        choices=[
            ("auto", f"Automatic: PCA with more than {PCA_FEATURES} features, else none"),
            ("none", "None"),
            ("pca", "PCA: the fewest components explaining 90% of the variance"),
            ("umap", "UMAP map beside the PCA map (clusters as with none)"),
        ],
        initial="auto",
    )
    distance = forms.ChoiceField(
        choices=[
            ("euclidean", "Euclidean"),
            ("mahalanobis", "Mahalanobis: correlated features count once"),
            ("cosine", "Cosine: the mix, not the size"),
        ],
        initial="euclidean",
    )

    algorithms = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        choices=_names(ALGORITHMS),
        required=False,
        help_text="Tried side by side. None ticked: the engine's choice for these column types "
        "(k-means, GMM and HDBSCAN for numbers; K-Prototypes and Gower methods with categories).",
    )
    k_min = forms.IntegerField(
        label="Fewest segments", min_value=MIN_CLUSTERS, max_value=MAX_CLUSTERS, initial=2
    )
    k_max = forms.IntegerField(
        label="Most segments", min_value=MIN_CLUSTERS, max_value=MAX_CLUSTERS, initial=6
    )
    random_state = forms.IntegerField(label="Random seed", min_value=0, max_value=2**32 - 1, initial=0)

    selection = forms.ChoiceField(
        choices=[
            ("combined", "Combined: silhouette, Davies–Bouldin, Calinski–Harabasz and stability"),
            ("silhouette", "Silhouette alone"),
        ],
        initial="combined",
        label="How the winner is chosen",
    )
    stability_resamples = forms.IntegerField(
        min_value=0,
        max_value=MAX_STABILITY_RESAMPLES,
        initial=20,
        label="Bootstrap resamples for stability",
        help_text="0 skips the stability check.",
    )
    dp_epsilon = forms.FloatField(
        required=False,
        min_value=0.0,
        max_value=10.0,
        label="Differential-privacy budget (ε)",
        help_text="Blank: the project's policy. Spent by the noisy profile tables released on request.",
    )
    dp_bounds = forms.JSONField(
        required=False,
        label="Public bounds for DP releases",
        help_text='JSON, e.g. {"avg_basket": [0, 500]}: bounds known without looking at the data. '
        "A column left out gets DP-estimated bounds, which spend a quarter of each release's ε.",
    )
    industry = forms.ChoiceField(
        choices=list(INDUSTRY_LABELS.items()),
        initial=DEFAULT_INDUSTRY,
        label="Words for segment names and actions",
        help_text="The client's industry: a telecom's subscribers are not a retailer's buyers.",
    )
    spec = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}), label="Spec (JSON)"
    )

    def __init__(self, *args: Any, dataset: Dataset, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The project's industry chooses the words unless the consultant picks others for this run.
        self.fields["industry"].initial = dataset.project.industry
        if self.is_bound:
            self.data = self.data.copy()
            for key in DEFAULTED:
                if key not in self.data:
                    self.data[key] = self.fields[key].initial
            if hasattr(self.data, "setlist"):  # a column left at automatic posts an empty choice
                self.data.setlist("transforms", [t for t in self.data.getlist("transforms") if t])
        self.dataset = dataset
        profile = dataset.table_profile
        # Order numbers and other ids are no feature: the profile keeps them out of every role.
        ids = set(profile.with_kind("id")) if profile else set()
        columns = [c for c in dataset.columns if c != dataset.id_column and c not in ids]
        numeric = set(dataset.numeric_columns)
        for key in (*ROLE_KEYS, *AUDIT_KEYS):
            self.fields[key].choices = [(c, c) for c in columns]
            self.fields[key].widget = forms.CheckboxSelectMultiple(choices=self.fields[key].choices)
        self.fields["numeric_columns"].initial = [c for c in columns if c in numeric]
        blank = [("", "—")]
        for key in SINGLE_COLUMN_KEYS:
            self.fields[key].choices = blank + [(c, c) for c in columns]
        self.fields["transforms"].choices = [(f"{c}:{t}", f"{c}: {t}") for c in columns for t in TRANSFORMS]
        customers = profile.customers if profile else dataset.row_count
        self.fields["k_max"].initial = max(MIN_CLUSTERS, min(6, customers - 1))
        if profile is not None:
            for key, value in profile_initials(profile, columns=columns, numeric=numeric).items():
                self.fields[key].initial = value
        self.json_mode = bool(self.data.get("edit_mode") == "json") if self.is_bound else False

    # -- what the template draws -------------------------------------------------------------

    def role_rows(self) -> list[dict[str, Any]]:
        """One row per column with a tick box per role: the column-roles grid."""
        chosen = {key: set(self._value(key)) for key in (*ROLE_KEYS, *AUDIT_KEYS)}
        transforms = dict(t.split(":", 1) for t in self._value("transforms"))
        profile = self.dataset.table_profile
        kinds = (
            {c.name: c.kind for c in profile.columns}
            if profile
            else {c["name"]: c["kind"] for c in self.dataset.schema}
        )
        return [
            {
                "column": column,
                "kind": kinds.get(column, ""),
                "roles": [
                    (key, ROLE_LABELS[key], column in chosen[key]) for key in (*ROLE_KEYS, *AUDIT_KEYS)
                ],
                "transform": transforms.get(column, ""),
            }
            for column, _ in self.fields["numeric_columns"].choices
        ]

    @property
    def groups(self) -> dict[str, list[forms.BoundField]]:
        return {name: [self[key] for key in keys] for name, keys in GROUPS.items()}

    transform_choices = TRANSFORMS
    role_keys = (*ROLE_KEYS, *AUDIT_KEYS)
    role_labels = ROLE_LABELS

    def _value(self, key: str) -> list[str]:
        if self.is_bound:
            return (
                list(self.data.getlist(key))
                if hasattr(self.data, "getlist")
                else list(self.data.get(key) or [])
            )
        return list(self.fields[key].initial or [])

    # -- validation --------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            spec = self._json_spec() if self.json_mode else self._form_spec(data)
            parsed = SegmentationSpec.from_dict(spec)
            unknown = [c for c in parsed.referenced_columns() if c not in self.dataset.columns]
            if unknown:
                raise SpecError(f"'{self.dataset.name}' has no column(s) {', '.join(unknown)}", key="spec")
            check_bounds(k_min=parsed.k_min, k_max=parsed.k_max, rows=self.dataset.row_count)
        except SegmentationError as error:
            self.add_error(self._field_for(error), str(error))
            return data
        self.parsed_spec = parsed
        return data

    def _field_for(self, error: SegmentationError) -> str | None:
        """The field beside which the engine's message belongs: its key, or the first key it quotes."""
        if self.json_mode:
            return "spec"
        candidates = [error.key] if error.key else []
        candidates += QUOTED.findall(str(error))
        return next((c for c in candidates if c in self.fields and c != "spec"), None)

    def _json_spec(self) -> dict[str, Any]:
        text = (self.data.get("spec") or "").strip()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError(
                f"the spec is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            ) from None
        if isinstance(spec, dict):
            spec.setdefault("id_column", self.dataset.id_column)
        return spec

    def _form_spec(self, data: dict[str, Any]) -> dict[str, Any]:
        transactions = data["input_kind"] == "transactions"
        spec: dict[str, Any] = {
            "id_column": self.dataset.id_column,
            "input_kind": data["input_kind"],
            "k_min": data["k_min"],
            "k_max": data["k_max"],
            "random_state": data["random_state"],
            "default_transform": data["default_transform"],
            "reduction": data["reduction"],
            "distance": data["distance"],
            "selection": data["selection"],
            "stability_resamples": data["stability_resamples"],
            "protected_as_features": data["protected_as_features"],
            "industry": data["industry"],
        }
        for key in AUDIT_KEYS:
            spec[key] = list(data[key])
        if transactions:
            spec["numeric_columns"] = []
            for key in LOG_KEYS:
                value = data.get(key)
                if key == "as_of":
                    value = value.isoformat() if value else None
                if value not in (None, "", []):
                    spec[key] = list(value) if isinstance(value, list) else value
        else:
            for key in ROLE_KEYS:
                spec[key] = list(data[key])
            spec["transforms"] = dict(t.split(":", 1) for t in data["transforms"])
        chosen = [a for a in ALGORITHMS if a in (data.get("algorithms") or [])]
        mixed = bool(spec.get("categorical_columns") or spec.get("ordinal_columns"))
        # The engine's own choice stays implicit, so a default run's spec (and hash) is unchanged.
        if chosen and set(chosen) != set(default_algorithms(mixed)):
            spec["algorithms"] = chosen
        excluded = [name.strip() for name in (data.get("excluded_features") or "").split(",") if name.strip()]
        if excluded:
            spec["excluded_features"] = list(dict.fromkeys(excluded))
        if data.get("dp_epsilon") is not None:
            spec["dp_epsilon"] = data["dp_epsilon"]
        if data.get("dp_bounds") not in (None, "", {}):
            spec["dp_bounds"] = data["dp_bounds"]
        return spec

    def run_spec(self) -> dict[str, Any]:
        """The validated spec as the engine stores it (keys at their default left out)."""
        return self.parsed_spec.to_dict()


def spec_summary(spec: SegmentationSpec, dataset: Dataset) -> list[str]:
    """The spec in a few plain sentences: what the live summary beside the form says."""
    lines = []
    if spec.is_transactions:
        groups = ", ".join(spec.features) if spec.features else "every feature group the log supports"
        lines.append(
            f"One row per event of {dataset.name} ({dataset.size_sentence}), by {spec.timestamp_column}; "
            f"features: {groups}."
        )
        if spec.as_of:
            lines.append(f"Only events before {spec.as_of} count.")
        if spec.features is None or "clv" in spec.features:
            lines.append(
                f"Lifetime value over {spec.clv_horizon_days} days at {spec.clv_discount_rate:.0%} a year "
                "(profiled, not clustered on)."
            )
        lines.append(f"Cohorts and lifecycle states by {spec.lifecycle_period}.")
    else:
        used = [*spec.numeric_columns, *spec.categorical_columns, *spec.ordinal_columns, *spec.date_columns]
        lines.append(
            f"{dataset.row_count:,} customers of {dataset.name}, clustered on {len(used)} column(s): {', '.join(used)}."
        )
        flags = _numeric_flags(spec, dataset)
        if flags:
            lines.append(
                f"{', '.join(flags)} hold(s) only two values: clustered as a number, a flag can split "
                "segments on its own. Mark it categorical, protected or outcome if that is what it is."
            )
        changed = {c: t for c, t in spec.transforms if t != "zscore"}
        rest = {"zscore": "z-scored", "auto": "log-transformed if heavy-tailed, else z-scored"}.get(
            spec.default_transform, spec.default_transform
        )
        if changed:
            lines.append(
                "Transforms: " + ", ".join(f"{c} {t}" for c, t in changed.items()) + f"; the rest {rest}."
            )
    if spec.protected_columns:
        lines.append(f"Bias audit on {', '.join(spec.protected_columns)}.")
    if spec.outcome_columns:
        lines.append(f"Segments checked against {', '.join(spec.outcome_columns)}.")
    tried = ", ".join(spec.algorithms) if spec.algorithms else "the engine's choice of algorithms"
    lines.append(f"Tries {tried} with {spec.k_min} to {spec.k_max} segments (seed {spec.random_state}).")
    if spec.reduction not in ("none", "auto") or spec.distance != "euclidean":
        lines.append(f"Space: {spec.reduction} reduction, {spec.distance} distance.")
    lines.append(
        f"Winner by {spec.selection} rule; stability from {spec.stability_resamples} bootstrap resamples."
        if spec.stability_resamples
        else f"Winner by {spec.selection} rule; no stability check."
    )
    return lines


def _numeric_flags(spec: SegmentationSpec, dataset: Dataset) -> list[str]:
    """Two-valued columns the spec clusters as numbers (a 0/1 SeniorCitizen split 4 of 6 segments)."""
    profile = dataset.table_profile
    if profile is None:
        return []
    flags = {c.name for c in profile.columns if c.kind == "flag"}
    return [c for c in spec.numeric_columns if c in flags]
