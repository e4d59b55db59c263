"""The declarative segmentation spec: what to cluster, and how.

A spec is a flat JSON object. Unknown keys and values of the wrong type are refused with a
message that names the key, so a typo never silently falls back to a default. Every key is
documented on :class:`SegmentationSpec` and in the README's spec table.

Foundation specs (``id_column``, ``numeric_columns``, ``k_min``, ``k_max``, ``random_state``)
stay valid and serialise to exactly the same dict, so their version hash does not move:
:meth:`SegmentationSpec.to_dict` writes a newer key only when it differs from its default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

# The k limits are the bounds module's; re-exported here, where readers of the spec look for them.
from .bounds import MAX_CLUSTERS as MAX_CLUSTERS
from .bounds import MIN_CLUSTERS as MIN_CLUSTERS
from .bounds import check_bounds
from .clustering.algorithms import ALGORITHMS  # the engine's registry is the one list of names
from .clustering.reduction import DISTANCES  # the engine's list, as for algorithms
from .errors import SpecError
from .explain.vocabulary import DEFAULT_INDUSTRY, INDUSTRIES
from .protection.dp_options import MAX_EPSILON as MAX_EPSILON
from .protection.dp_options import bounds_option, epsilon_option
from .spec_values import (
    boolean,
    choice,
    column_names,
    integer,
    integer_between,
    iso_date,
    optional_text,
    rate_below_one,
    registry_names,
    text_value,
)

MAX_STABILITY_RESAMPLES = 200

INPUT_KINDS = ("customers", "transactions")
FEATURE_GROUPS = (
    "rfm",
    "temporal",
    "windows",
    "diversity",
    "affinity",
    "seasonality",
    "clv",
    "trajectory",
)
# Groups a log gets when the spec names none: every one the data supports but ``trajectory``,
# which clusters on the shape of activity over time only when asked.
DEFAULT_FEATURE_GROUPS = tuple(g for g in FEATURE_GROUPS if g != "trajectory")
LIFECYCLE_PERIODS = ("month", "week", "quarter")
DEFAULT_CLV_HORIZON_DAYS = 365
DEFAULT_CLV_DISCOUNT_RATE = 0.1
MAX_CLV_HORIZON_DAYS = 3_660
# "auto": the field's defaults decide (segmentation.defaults); a version stores what they chose.
REDUCTIONS = ("auto", "none", "pca", "umap")
SELECTIONS = ("combined", "silhouette")
TRANSFORMS = ("zscore", "robust", "log1p", "quantile")
DEFAULT_TRANSFORM = "zscore"
DEFAULT_TRANSFORMS = ("auto", *TRANSFORMS)

# The keys of the foundation's spec: always written by to_dict, as they always were.
FOUNDATION_KEYS = ("id_column", "numeric_columns", "k_min", "k_max", "random_state")
TRANSACTION_COLUMN_KEYS = (
    "timestamp_column",
    "amount_column",
    "quantity_column",
    "unit_price_column",
    "category_column",
)
COLUMN_LIST_KEYS = (
    "categorical_columns",
    "ordinal_columns",
    "date_columns",
    "protected_columns",
    "outcome_columns",
)


@dataclass(frozen=True)
class SegmentationSpec:
    """A validated spec.

    Keys
    ----
    id_column : the column that identifies a customer (required).
    numeric_columns : numeric columns to cluster on. Required for a customer table unless
        ``categorical_columns`` are given; optional for transactions (features are engineered).
    k_min, k_max : the range of segment counts to try (defaults 2 and 8).
    random_state : seed for every random step (default 0), so a run is reproducible.
    input_kind : ``"customers"`` (one row a customer, default) or ``"transactions"`` (an event log).
    timestamp_column : event time column (transactions: required).
    amount_column : event amount; or ``quantity_column`` and ``unit_price_column`` (amount =
        quantity × unit price). Transactions need one of the two. Negative values are refunds.
    category_column : product category of an event (optional; enables diversity and affinity).
    as_of : ISO date ``YYYY-MM-DD``; events on or after it are ignored. Default (None): the day
        after the last event.
    categorical_columns, ordinal_columns, date_columns : column roles of a customer table.
    protected_columns : attributes kept for bias audits, never features unless
        ``protected_as_features`` is true (default false).
    outcome_columns : outcomes (churn, revenue…) for external validation, never features.
    dp_epsilon : the differential-privacy budget of the version's profile releases (a positive
        number up to 10). Default (None): the project's privacy policy sets it.
    dp_bounds : declared public bounds a DP release clamps each column to, triples
        ``(column, low, high)``; in JSON ``{"column": [low, high]}``. A column without them gets
        bounds from a DP quantile, which spends part of the release's epsilon.
    industry : the vocabulary of segment names and suggested actions, from ``INDUSTRIES``
        (retail, subscription, saas, financial, generic). Default: retail.
    features : feature groups to engineer from transactions, from ``FEATURE_GROUPS``. Default
        (None): every group the data supports but ``trajectory``. Ignored for customer tables.
        ``clv`` is the customer lifetime value of the BG/NBD and Gamma-Gamma models
        (``p_alive``, ``expected_purchases_<H>``, ``clv_<H>``): profiled and delivered
        (``clv.csv``) but never clustered on, so the SQL scorers label exactly as the model
        does. ``trajectory`` clusters on the shape of each customer's activity per
        ``lifecycle_period`` (time-aware segments).
    clv_horizon_days : the CLV horizon in days, 1..3660 (default 365).
    clv_discount_rate : the annual discount rate of the CLV, from 0 up to 1 (default 0.1).
    lifecycle_period : the period of cohorts, lifecycle states and trajectories: ``"month"``
        (default), ``"week"`` or ``"quarter"``.
    algorithms : algorithms to run side by side, from ``ALGORITHMS``. Default (None): the engine
        chooses from the data's types.
    reduction : ``"auto"`` (default: PCA when there are more than
        :data:`~segmentation.defaults.PCA_FEATURES` numeric features and the distance is
        Euclidean, else none), ``"none"`` or ``"pca"`` (components explaining 90% of the variance,
        carried by the model as a projection); ``"umap"`` clusters like ``"none"`` and adds a UMAP map to the exploration maps (UMAP is not
        linear, so no SQL scorer could reproduce an assignment made in its space).
    distance : ``"euclidean"`` (default), ``"mahalanobis"`` (whitening by the inverse Cholesky
        factor of the covariance, part of the projection) or ``"cosine"`` (features scaled but
        not centred, then every row scaled to unit length, so customers group by their mix
        rather than their volume; the model carries the normalisation and its SQL scorers need
        ``SQRT``, which SQLite has from 3.35 when built with its math functions).
    selection : ``"combined"`` (default) or ``"silhouette"``: the rule that picks the winner.
    stability_resamples : bootstrap resamples for stability, 0..200 (default 20).
    drop_duplicates : remove exact duplicate rows of a transaction log (default false: they are
        counted and reported, since two identical purchases on one day can be real).
    transforms : per-column transform, pairs ``(column, transform)`` sorted by column; in JSON a
        mapping ``{"column": "log1p"}``. Columns not named use ``default_transform``.
    excluded_features : features left out of the clustering although the data has them, for
        example the proxies of a protected attribute a mitigation run drops. For a customer table
        they are named columns of the spec; for a log, engineered feature names. They stay in
        ``features.csv``.
    default_transform : the transform of a numeric column ``transforms`` does not name:
        ``"auto"`` (default: log1p for a heavy right tail, else zscore, by the rule of
        :mod:`segmentation.data.heavy_tails`) or one of ``TRANSFORMS`` for every such column.
        A version's stored spec is always resolved: ``"zscore"`` with the logged columns named
        in ``transforms`` and ``reduction`` ``"none"`` or ``"pca"``, so it says exactly what ran
        and a re-run with it does the same. A spec stored before this key read ``zscore``
        wherever it reads ``auto`` now: its version's model and metrics keep what ran then.
    """

    id_column: str
    numeric_columns: tuple[str, ...] = ()
    k_min: int = 2
    k_max: int = 8
    random_state: int = 0
    input_kind: str = "customers"
    timestamp_column: str | None = None
    amount_column: str | None = None
    quantity_column: str | None = None
    unit_price_column: str | None = None
    category_column: str | None = None
    as_of: str | None = None
    categorical_columns: tuple[str, ...] = ()
    ordinal_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()
    protected_columns: tuple[str, ...] = ()
    outcome_columns: tuple[str, ...] = ()
    protected_as_features: bool = False
    features: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] | None = None
    reduction: str = "auto"
    distance: str = "euclidean"
    selection: str = "combined"
    stability_resamples: int = 20
    drop_duplicates: bool = False
    transforms: tuple[tuple[str, str], ...] = ()
    default_transform: str = "auto"
    dp_epsilon: float | None = None
    dp_bounds: tuple[tuple[str, float, float], ...] = ()
    industry: str = DEFAULT_INDUSTRY
    excluded_features: tuple[str, ...] = ()
    clv_horizon_days: int = DEFAULT_CLV_HORIZON_DAYS
    clv_discount_rate: float = DEFAULT_CLV_DISCOUNT_RATE
    lifecycle_period: str = "month"

    @property
    def is_transactions(self) -> bool:
        return self.input_kind == "transactions"

    @property
    def as_of_date(self) -> dt.date | None:
        return None if self.as_of is None else dt.date.fromisoformat(self.as_of)

    def transform_for(self, column: str) -> str:
        """The transform of ``column``: the one the spec names, else ``default_transform``
        (``"auto"`` until :func:`segmentation.defaults.resolve_defaults` has decided)."""
        return dict(self.transforms).get(column, self.default_transform)

    @property
    def dp_bounds_map(self) -> dict[str, tuple[float, float]]:
        return {column: (low, high) for column, low, high in self.dp_bounds}

    def referenced_columns(self) -> tuple[str, ...]:
        """Every input column the spec names, in a stable order, without repeats."""
        names: list[str] = [self.id_column, *self.numeric_columns]
        names += [getattr(self, key) for key in TRANSACTION_COLUMN_KEYS if getattr(self, key)]
        for key in COLUMN_LIST_KEYS:
            names += getattr(self, key)
        return tuple(dict.fromkeys(names))

    def check_bounds(self, *, customers: int | None = None, distinct: int | None = None) -> None:
        """Refuse data too small for this spec's k range (see :func:`segmentation.bounds.check_bounds`):
        ``customers`` to segment, ``distinct`` of them with different values."""
        check_bounds(k_min=self.k_min, k_max=self.k_max, customers=customers, distinct=distinct)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; newer keys appear only when they differ from their default."""
        data: dict[str, Any] = {key: getattr(self, key) for key in FOUNDATION_KEYS}
        data["numeric_columns"] = list(self.numeric_columns)
        for f in fields(self):
            if f.name in FOUNDATION_KEYS:
                continue
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name == "transforms":
                value = dict(value)
            elif f.name == "dp_bounds":
                value = {column: [low, high] for column, low, high in value}
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentationSpec:
        """Validate ``data`` and build a spec, or raise :class:`SpecError` naming the key."""
        if not isinstance(data, Mapping):
            raise SpecError("the spec must be a JSON object of keys and values")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(
                f"unknown spec key(s): {', '.join(unknown)}; accepted keys are {', '.join(sorted(known))}"
            )
        if "id_column" not in data:
            raise SpecError("the spec needs 'id_column'")
        id_column = text_value(data, "id_column")
        input_kind = choice(data, "input_kind", INPUT_KINDS, cls.input_kind)
        transactions = input_kind == "transactions"

        numeric = column_names(data, "numeric_columns")
        lists = {key: column_names(data, key) for key in COLUMN_LIST_KEYS}
        if not transactions and "numeric_columns" not in data and not lists["categorical_columns"]:
            raise SpecError(
                "the spec needs 'numeric_columns' (or 'categorical_columns') for a customer table"
            )
        if not transactions and not numeric and not lists["categorical_columns"]:
            raise SpecError("'numeric_columns' must name at least one column")

        singles = {key: optional_text(data, key) for key in TRANSACTION_COLUMN_KEYS}
        if transactions:
            if singles["timestamp_column"] is None:
                raise SpecError("'timestamp_column' is required when 'input_kind' is 'transactions'")
            has_price = singles["quantity_column"] is not None and singles["unit_price_column"] is not None
            if singles["amount_column"] is None and not has_price:
                raise SpecError(
                    "'amount_column' (or both 'quantity_column' and 'unit_price_column') is required "
                    "when 'input_kind' is 'transactions'"
                )
            if (singles["quantity_column"] is None) != (singles["unit_price_column"] is None):
                raise SpecError("'quantity_column' and 'unit_price_column' go together: give both or neither")
        else:
            given = [key for key, value in singles.items() if value is not None]
            if given:
                raise SpecError(
                    f"'{given[0]}' applies only when 'input_kind' is 'transactions'; "
                    'add "input_kind": "transactions" or remove it'
                )

        protected_as_features = boolean(data, "protected_as_features", cls.protected_as_features)
        _check_roles(id_column, numeric, singles, lists, protected_as_features)

        k_min = integer(data, "k_min", cls.k_min)
        k_max = integer(data, "k_max", cls.k_max)
        check_bounds(k_min=k_min, k_max=k_max)
        random_state = integer(data, "random_state", cls.random_state)
        if not 0 <= random_state < 2**32:
            raise SpecError("'random_state' must be between 0 and 4294967295")
        stability = integer(data, "stability_resamples", cls.stability_resamples)
        if not 0 <= stability <= MAX_STABILITY_RESAMPLES:
            raise SpecError(f"'stability_resamples' must be between 0 and {MAX_STABILITY_RESAMPLES}")

        # the column roles are checked above; they reach their fields by name
        roles: dict[str, Any] = {**singles, **lists}
        return cls(
            id_column=id_column,
            numeric_columns=numeric,
            k_min=k_min,
            k_max=k_max,
            random_state=random_state,
            input_kind=input_kind,
            as_of=iso_date(data, "as_of"),
            protected_as_features=protected_as_features,
            features=registry_names(data, "features", FEATURE_GROUPS),
            algorithms=registry_names(data, "algorithms", ALGORITHMS),
            reduction=choice(data, "reduction", REDUCTIONS, cls.reduction),
            distance=choice(data, "distance", DISTANCES, cls.distance),
            selection=choice(data, "selection", SELECTIONS, cls.selection),
            stability_resamples=stability,
            drop_duplicates=boolean(data, "drop_duplicates", cls.drop_duplicates),
            dp_epsilon=epsilon_option(data),
            dp_bounds=bounds_option(data, None if transactions else numeric),
            industry=choice(data, "industry", INDUSTRIES, cls.industry),
            transforms=_transforms(data),
            excluded_features=_excluded(data, transactions, numeric, lists),
            default_transform=choice(data, "default_transform", DEFAULT_TRANSFORMS, cls.default_transform),
            clv_horizon_days=integer_between(
                data, "clv_horizon_days", cls.clv_horizon_days, 1, MAX_CLV_HORIZON_DAYS, unit="days"
            ),
            clv_discount_rate=rate_below_one(data, "clv_discount_rate", cls.clv_discount_rate),
            lifecycle_period=choice(data, "lifecycle_period", LIFECYCLE_PERIODS, cls.lifecycle_period),
            **roles,
        )


def _check_roles(
    id_column: str,
    numeric: tuple[str, ...],
    singles: dict[str, str | None],
    lists: dict[str, tuple[str, ...]],
    protected_as_features: bool,
) -> None:
    """A column plays one role: the id is nothing else, and a feature is not an outcome."""
    for key, columns in [("numeric_columns", numeric), *lists.items()]:
        if id_column in columns:
            raise SpecError(f"'{id_column}' is the id column and cannot also be in '{key}'")
    for key, value in singles.items():
        if value == id_column:
            raise SpecError(f"'{key}' names '{id_column}', which is the id column")
    features = {"numeric_columns": numeric, **{k: lists[k] for k in COLUMN_LIST_KEYS[:3]}}
    seen: dict[str, str] = {}
    for key, columns in features.items():
        for column in columns:
            if column in seen:
                raise SpecError(f"'{column}' is in both '{seen[column]}' and '{key}': give it one role")
            seen[column] = key
    for column in lists["outcome_columns"]:
        if column in seen:
            raise SpecError(
                f"'{column}' is in both 'outcome_columns' and '{seen[column]}': an outcome is never a feature"
            )
    if not protected_as_features:
        for column in lists["protected_columns"]:
            if column in seen:
                raise SpecError(
                    f"'{column}' is in 'protected_columns' and '{seen[column]}': protected attributes are "
                    "never features unless 'protected_as_features' is true"
                )


def _excluded(
    data: Mapping[str, Any], transactions: bool, numeric: tuple[str, ...], lists: dict[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The features to leave out; a customer table's must be features the spec names, and one must remain."""
    excluded = column_names(data, "excluded_features")
    if transactions or not excluded:
        return excluded  # a log's feature names are known once engineered
    features = (*numeric, *lists["categorical_columns"])
    unknown = [c for c in excluded if c not in features]
    if unknown:
        raise SpecError(
            f"'excluded_features' names {', '.join(unknown)}, which the spec does not cluster on; "
            "name columns of 'numeric_columns' or 'categorical_columns'"
        )
    if set(features) <= set(excluded):
        raise SpecError("'excluded_features' leaves no feature to cluster on: keep at least one")
    return excluded


def _transforms(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = data.get("transforms", {})
    if not isinstance(value, Mapping):
        raise SpecError("'transforms' must be a mapping of column name to transform")
    for column, transform in value.items():
        if not isinstance(column, str) or not column.strip():
            raise SpecError("'transforms' must be keyed by column names")
        if transform not in TRANSFORMS:
            raise SpecError(
                f"'transforms' gives '{column}' the unknown transform {transform!r}; "
                f"choose from {', '.join(TRANSFORMS)}"
            )
    return tuple(sorted((str(c), str(t)) for c, t in value.items()))
