"""Customer features engineered from a clean event log, as of a date, without leakage.

Only events strictly before ``as_of`` (midnight, UTC) are read, and they are filtered before
anything else is derived (the customer list, the category list, the affinity embedding), so
events after ``as_of`` never change a feature. Day counts are calendar days: an event on the
day before ``as_of`` is 1 day old.

Features by group (money in the log's currency, cents rounded):

- ``rfm``: ``recency_days`` (days from the last purchase to ``as_of``), ``frequency``
  (purchases), ``monetary_total`` (purchase amounts, refunds excluded), ``monetary_mean``,
  ``refund_rate`` (refunds / all events).
- ``temporal``: ``tenure_days`` (days from the first event), ``active_months`` (calendar
  months with a purchase), ``interval_mean_days`` ((last − first) / (n − 1)),
  ``interval_std_days`` (population spread of the gaps), ``decayed_spend`` (each purchase
  weighted by 0.5 ** (age / 90 days)).
- ``windows``: ``spend_30d``, ``count_30d``, ``spend_90d``, ``count_90d``, ``spend_180d``,
  ``count_180d`` and ``momentum_90d`` = (last 90 days − prior 90 days) / their sum, in −1..1.
- ``diversity`` (needs a category column): ``category_count``, ``category_entropy`` (bits, of
  the spend shares).
- ``affinity`` (needs two or more categories): ``affinity_1``.. — truncated SVD of the
  customer × category spend-share matrix.
- ``seasonality``: ``q4_share`` (share of spend in October–December) and
  ``top_quarter_share`` (share in the customer's busiest calendar quarter).

A feature undefined for a customer stays missing (NaN) and an indicator says why, so the
absence is signal rather than silently imputed: ``no_purchases`` (only refunds),
``interval_missing`` (fewer than two purchases), ``momentum_missing`` (no spend in the last
180 days), ``no_spend`` (purchase total zero). An indicator column exists only when it flags
someone. ``recency_days``, ``frequency``, ``monetary_total`` and ``tenure_days`` are always in
the table (the ``features.csv`` contract), whatever groups are chosen.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ..errors import SegmentationError
from ..spec import FEATURE_GROUPS
from .aggregate import DECAY_UNITS, DEFAULT_ENGINE, SECONDS_PER_DAY, WINDOWS, aggregate, lean_events

EPOCH = dt.date(1970, 1, 1)
# The groups this module engineers from the log's aggregates; ``clv`` and ``trajectory`` are
# the lifecycle models' (segmentation.data.customer_table adds them).
EVENT_GROUPS = tuple(g for g in FEATURE_GROUPS if g not in ("clv", "trajectory"))
AFFINITY_COMPONENTS = 3
ENTROPY_BITS = 44  # category entropy is kept in multiples of 2**-44 bits (about 6e-14)
LN2 = math.log(2.0)
CORE = ("recency_days", "frequency", "monetary_total", "tenure_days")
# Engineered amounts, counts and durations: ratio scales on which customers differ by factors (a
# loyal customer buys ten times as often, spends ten times as much), so the field clusters their
# logs (log-RFM) whatever their skewness in one log (see segmentation.data.heavy_tails).
RATIO_SCALE = frozenset(
    {
        "recency_days",
        "frequency",
        "monetary_total",
        "monetary_mean",
        "tenure_days",
        "active_months",
        "interval_mean_days",
        "interval_std_days",
        "decayed_spend",
        "category_count",
        *(f"{kind}_{w}d" for w in WINDOWS for kind in ("spend", "count")),
    }
)
GROUP_COLUMNS = {
    "rfm": ("recency_days", "frequency", "monetary_total", "monetary_mean", "refund_rate"),
    "temporal": ("tenure_days", "active_months", "interval_mean_days", "interval_std_days", "decayed_spend"),
    "windows": (*[f"{kind}_{w}d" for w in WINDOWS for kind in ("spend", "count")], "momentum_90d"),
    "diversity": ("category_count", "category_entropy"),
    "affinity": (),  # affinity_1.. depend on the number of categories
    "seasonality": ("q4_share", "top_quarter_share"),
}


@dataclass(frozen=True)
class FeatureTable:
    """Engineered features: ``frame`` holds ``customer_id`` then every feature before scaling.

    ``feature_columns`` are the columns of the chosen groups plus the indicators (what is
    clustered); ``skipped`` tells why a group the data cannot support was left out.
    """

    frame: pd.DataFrame
    feature_columns: tuple[str, ...]
    groups: tuple[str, ...]
    as_of: dt.date
    skipped: dict[str, str] = field(default_factory=dict)
    # The affinity projection: {"categories": names, "components": one row per affinity_k}.
    affinity: dict[str, list] | None = None


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def customer_features(
    events: pd.DataFrame,
    *,
    as_of: dt.date,
    groups: Sequence[str] | None = None,
    engine: str = DEFAULT_ENGINE,
    random_state: int = 0,
) -> FeatureTable:
    """Features of every customer with at least one event before ``as_of``.

    ``events`` is :class:`segmentation.data.transactions.Events` ``.frame``. ``groups`` None means
    every group the data supports; naming a group the data cannot support is an error.
    Raises :class:`SegmentationError` when no event precedes ``as_of``.
    """
    has_category = "category" in events.columns
    chosen, skipped = _groups(groups, has_category)
    cutoff = day_number(as_of)
    # Leave out every later event before anything else is derived: the customer list, the
    # category list and the embedding then cannot depend on the future.
    past = events["t"].to_numpy() < cutoff * SECONDS_PER_DAY
    ids, customer = _codes(events["customer_id"])
    category_names, category = _codes(events["category"]) if has_category else (None, None)
    affinity: dict[str, list] | None = None
    lean = lean_events(
        customer[past],
        events["t"].to_numpy()[past],
        events["cents"].to_numpy()[past],
        events["refund"].to_numpy()[past],
        None if category is None else category[past],
    )
    agg, by_category = aggregate(
        lean, cutoff, engine=engine, categories=has_category and bool({"diversity", "affinity"} & set(chosen))
    )
    if agg.empty:
        raise SegmentationError(
            f"no event happens before 'as_of' ({as_of.isoformat()}): choose a later 'as_of' "
            "or check the timestamp column"
        )
    agg.insert(0, "customer_id", ids[agg["customer"].to_numpy()])
    out = _base_features(agg, cutoff)
    if by_category is not None and category_names is not None:
        categories = np.unique(by_category["category"].to_numpy())  # codes sort like the names
        if "diversity" in chosen:
            out.update(_diversity(agg, by_category))
        if "affinity" in chosen:
            if len(categories) < 2:
                if groups is not None and "affinity" in groups:
                    raise SegmentationError(
                        "the 'affinity' feature group needs purchases in at least two categories"
                    )
                skipped["affinity"] = "fewer than two categories purchased before as_of"
                chosen = [g for g in chosen if g != "affinity"]
            else:
                embedding, components = _affinity(agg, by_category, categories, random_state)
                out.update(embedding)
                affinity = {
                    "categories": [str(name) for name in category_names[categories]],
                    "components": components.tolist(),
                }

    indicators = _indicators(agg)
    frame = pd.DataFrame({"customer_id": agg["customer_id"].to_numpy()})
    columns: list[str] = []
    for group in chosen:
        names = [c for c in out if c.startswith("affinity_")] if group == "affinity" else GROUP_COLUMNS[group]
        columns += [c for c in names if c not in columns]
    table_columns = [*CORE, *[c for c in columns if c not in CORE]]
    for name in table_columns:
        frame[name] = out[name]
    for name, flags in indicators.items():
        frame[name] = flags.astype(np.int64)
    return FeatureTable(
        frame=frame,
        feature_columns=tuple(columns) + tuple(indicators),
        groups=tuple(chosen),
        as_of=as_of,
        skipped=skipped,
        affinity=affinity,
    )


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each row's code into them (free for a sorted Categorical)."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.is_monotonic_increasing:
        return values.cat.categories.to_numpy(), values.cat.codes.to_numpy()
    codes, uniques = pd.factorize(values, sort=True)
    return np.asarray(uniques), codes


def _groups(groups: Sequence[str] | None, has_category: bool) -> tuple[list[str], dict[str, str]]:
    skipped: dict[str, str] = {}
    if groups is None:
        chosen = list(EVENT_GROUPS)
        if not has_category:
            for group in ("diversity", "affinity"):
                skipped[group] = "the spec names no 'category_column'"
            chosen = [g for g in chosen if g not in skipped]
        return chosen, skipped
    wrong = [g for g in groups if g not in FEATURE_GROUPS]
    if wrong:
        raise SegmentationError(f"unknown feature group(s) {', '.join(wrong)}")
    if not has_category:
        needing = [g for g in groups if g in ("diversity", "affinity")]
        if needing:
            raise SegmentationError(
                f"the '{needing[0]}' feature group needs product categories: set 'category_column'"
            )
    return [g for g in EVENT_GROUPS if g in groups], skipped


def _base_features(agg: pd.DataFrame, cutoff: int) -> dict[str, np.ndarray]:
    n = agg["n_purchases"].to_numpy()
    spend = agg["spend"].to_numpy()
    first_p = agg["first_p"].to_numpy(dtype=float, na_value=np.nan)
    last_p = agg["last_p"].to_numpy(dtype=float, na_value=np.nan)
    bought = n > 0
    several = n > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        span = last_p - first_p
        mean_gap = np.where(several, span / np.maximum(n - 1, 1), np.nan)  # seconds
        mean_square = agg["gap_sq"].to_numpy() / np.maximum(n - 1, 1)
        spread = np.sqrt(np.maximum(mean_square - mean_gap**2, 0.0))
        recent = agg["w90_spend"].to_numpy()
        prior = agg["w180_spend"].to_numpy() - recent
        moving = recent + prior
        quarters = agg[["q1", "q2", "q3", "q4"]].to_numpy()
        out = {
            "recency_days": np.where(bought, cutoff - np.floor(last_p / SECONDS_PER_DAY), np.nan),
            "frequency": n.astype(float),
            "monetary_total": spend / 100,
            "monetary_mean": np.where(bought, np.round(spend / np.maximum(n, 1)) / 100, np.nan),
            "refund_rate": agg["n_refunds"].to_numpy() / (n + agg["n_refunds"].to_numpy()),
            "tenure_days": (cutoff - np.floor_divide(agg["first_any"].to_numpy(), SECONDS_PER_DAY)).astype(
                float
            ),
            "active_months": agg["months"].to_numpy().astype(float),
            "interval_mean_days": mean_gap / SECONDS_PER_DAY,
            "interval_std_days": np.where(several, spread / SECONDS_PER_DAY, np.nan),
            "decayed_spend": agg["decayed"].to_numpy() / (DECAY_UNITS * 100),
            "momentum_90d": np.where(moving > 0, (recent - prior) / np.maximum(moving, 1), np.nan),
            "q4_share": np.where(spend > 0, quarters[:, 3] / np.maximum(spend, 1), np.nan),
            "top_quarter_share": np.where(spend > 0, quarters.max(axis=1) / np.maximum(spend, 1), np.nan),
        }
    for w in WINDOWS:
        out[f"spend_{w}d"] = agg[f"w{w}_spend"].to_numpy() / 100
        out[f"count_{w}d"] = agg[f"w{w}_n"].to_numpy().astype(float)
    return out


def _indicators(agg: pd.DataFrame) -> dict[str, np.ndarray]:
    n = agg["n_purchases"].to_numpy()
    flags = {
        "no_purchases": n == 0,
        "interval_missing": n < 2,
        "momentum_missing": agg["w180_spend"].to_numpy() == 0,
        "no_spend": agg["spend"].to_numpy() == 0,
    }
    return {name: flag for name, flag in flags.items() if flag.any()}


def _positions(agg: pd.DataFrame, by_category: pd.DataFrame) -> np.ndarray:
    return np.searchsorted(agg["customer"].to_numpy(), by_category["customer"].to_numpy())


def _diversity(agg: pd.DataFrame, by_category: pd.DataFrame) -> dict[str, np.ndarray]:
    rows = _positions(agg, by_category)
    size = len(agg)
    cents = by_category["cents"].to_numpy().astype(float)
    total = np.bincount(rows, weights=cents, minlength=size)
    share = cents / np.where(total[rows] > 0, total[rows], 1)
    # Each term in bits, rounded to a multiple of 2**-ENTROPY_BITS: the sums are then exact in
    # any order, so a database computes the very same entropy (segmentation.sql.features), and
    # one category gives exactly 0. ln(p) / ln(2) rather than log2: every SQL engine has LN.
    bits = -(share * (np.log(np.where(share > 0, share, 1.0)) / LN2))
    terms = np.where(share > 0, np.floor(bits * 2.0**ENTROPY_BITS + 0.5), 0.0)
    entropy = np.bincount(rows, weights=terms, minlength=size) / 2.0**ENTROPY_BITS
    return {
        "category_count": np.bincount(rows, minlength=size).astype(float),
        "category_entropy": np.where(total > 0, entropy, np.nan),
    }


def _affinity(
    agg: pd.DataFrame, by_category: pd.DataFrame, categories: np.ndarray, random_state: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The embedding and the SVD components (one row per ``affinity_k``, a column per category).

    The embedding is the projection of each customer's shares onto the components, summed
    category by category in sorted order (``0 + s_1 c_1 + s_2 c_2 + ...``): the order
    :mod:`segmentation.sql.features` writes, so a database gives the very same doubles.
    """
    from sklearn.decomposition import TruncatedSVD

    rows = _positions(agg, by_category)
    cols = np.searchsorted(categories, by_category["category"].to_numpy())
    cents = by_category["cents"].to_numpy().astype(float)
    total = np.bincount(rows, weights=cents, minlength=len(agg))
    shares = cents / np.where(total[rows] > 0, total[rows], 1)
    matrix = sparse.csr_matrix((shares, (rows, cols)), shape=(len(agg), len(categories)))
    k = min(AFFINITY_COMPONENTS, len(categories) - 1)
    svd = TruncatedSVD(n_components=k, algorithm="arpack", random_state=random_state).fit(matrix)
    components = np.asarray(svd.components_, dtype=np.float64)
    by_column = matrix.tocsc()
    embedding = np.zeros((len(agg), k))
    for j in range(len(categories)):
        embedding += by_column[:, j].toarray() * components[:, j]
    embedding[total == 0] = np.nan
    return {f"affinity_{i + 1}": embedding[:, i] for i in range(k)}, components
