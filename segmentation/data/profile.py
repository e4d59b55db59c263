"""What an uploaded table is: each column's kind and suggested role, and whether the table holds
one row per customer or one row per event.

The upload shows this to the consultant and the run form starts from it, so a purchase log is
not read as "69,659 customers" and an order number is never offered as a feature. Every step is
a vectorised pass over a column (or over a sample of its distinct values, for dates), so a
table of a few hundred thousand rows is profiled in well under a second per column.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from ..model.reading import coerce_numeric
from ..protection.pii import detect
from .io import id_text
from .missing import missing_mask

KINDS = ("number", "category", "date", "text", "id", "flag")
ROLES = (
    "id",
    "feature",
    "categorical",
    "timestamp",
    "amount",
    "quantity",
    "protected-candidate",
    "outcome-candidate",
    "ignore",
)
# A column is numbers (or dates) when nearly all of its filled cells read as such; a few stray
# words are missing values, as in runs/schema.py.
NUMBER_SHARE = DATE_SHARE = 0.9
DATE_SAMPLE = 500  # distinct values parsed to decide whether a text column holds dates
EXAMPLE_SCAN = 1000  # rows scanned for a column's first distinct examples
MAX_CATEGORIES = 50
FLAG_VALUES = frozenset({"0", "1", "true", "false", "yes", "no", "y", "n", "t", "f"})
# When at least this share of rows belong to an id that repeats, and a column holds dates, the
# table is a log; a handful of repeats in a customer table are duplicates, not events.
EVENT_ROW_SHARE = 0.2


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


# Matched against the name in snake case, so "InvoiceNo" reads as "invoice_no".
ID_LIKE = _words(r"(^|_)(id|uuid|guid|key|ref|code|no|num|number)$|^(invoice|order|transaction|receipt)$")
AMOUNT_NAMES = _words(r"amount|revenue|spend|sales|value|total|turnover|price|paid|gross|net")
UNIT_PRICE_NAMES = _words(r"unit_?price|^price$|price_?each|^unitprice$")
QUANTITY_NAMES = _words(r"qty|quantity|units|items|count")
TIMESTAMP_NAMES = _words(r"date|time|timestamp|created|^ts$|_at$|when")
CATEGORY_NAMES = _words(r"categor|department|product_?(type|group|family|line)|^family$|^class$")
PROTECTED_NAMES = _words(
    r"gender|(^|_)sex($|_)|(^|_)age($|_)|(^|_)race($|_)|ethnic|religio|disabilit|marital"
    r"|nationality|pregnan|sexual_orientation"
)
# Flags and categories named like an outcome; a number only when it is plainly a future value
# (a count of past cancellations is a feature, a churn flag an outcome).
OUTCOME_NAMES = _words(r"churn|convert|outcome|target|label|respond|retained|renewed|cancelled|attrit")
OUTCOME_NUMBERS = _words(r"(^|_)(ltv|clv)($|_)|lifetime_value|(^|_)next_|_next($|_)")


@dataclass(frozen=True)
class ColumnProfile:
    """One column as the upload reads it; ``examples`` is empty for the id column and for a
    column holding other personal data (``pii`` names its kind)."""

    name: str
    kind: str
    missing_share: float
    distinct: int
    examples: list[str]
    role: str
    pii: str | None = None

    @property
    def missing_percent(self) -> float:
        return round(100 * self.missing_share, 1)


@dataclass(frozen=True)
class TableProfile:
    """A table's columns and its verdict: ``kind`` is ``"customers"`` or ``"events"``.

    ``duplicate_ids`` counts the ids that appear more than once (``duplicate_examples`` a few
    of them with their counts); for a customer table they are an error, for a log the point.
    The ``*_column`` suggestions are set for a log only.
    """

    rows: int
    id_column: str
    kind: str
    reason: str
    customers: int
    duplicate_ids: int
    duplicate_examples: list[tuple[str, int]]
    columns: list[ColumnProfile] = field(default_factory=list)
    timestamp_column: str | None = None
    amount_column: str | None = None
    quantity_column: str | None = None
    unit_price_column: str | None = None
    category_column: str | None = None

    @property
    def is_events(self) -> bool:
        return self.kind == "events"

    @property
    def sentence(self) -> str:
        """The table in a few words: "69,659 events from 23,570 customers" or "800 customers"."""
        if self.is_events:
            return f"{self.rows:,} events from {self.customers:,} customers"
        return f"{self.rows:,} customers"

    def with_role(self, *roles: str) -> list[str]:
        return [c.name for c in self.columns if c.role in roles]

    def with_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duplicate_examples"] = [list(pair) for pair in self.duplicate_examples]
        data["sentence"] = self.sentence
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableProfile:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["columns"] = [
            ColumnProfile(**{k: v for k, v in c.items() if k in ColumnProfile.__dataclass_fields__})
            for c in data.get("columns", [])
        ]
        known["duplicate_examples"] = [(str(i), int(n)) for i, n in data.get("duplicate_examples", [])]
        return cls(**known)


def profile_table(frame: pd.DataFrame, id_column: str) -> TableProfile:
    """Profile ``frame``, whose customers are identified by ``id_column`` (a column of it)."""
    rows = len(frame)
    pii = {f.column: f.kind for f in detect(frame, id_column=id_column) if f.column != id_column}
    # A missing token (NA, null, -) is no value: it neither makes a number column text nor
    # counts as a distinct value (segmentation.data.missing).
    tallies = {str(c): _filled_counts(frame[c]) for c in frame.columns}
    kinds = {str(c): _kind(frame[c], tallies[str(c)], str(c), id_column) for c in frame.columns}

    ids = id_text(frame[id_column]).dropna()
    counts = ids.value_counts()
    repeated = counts[counts > 1]
    customers = len(counts)
    rows_in_repeats = int(repeated.sum())
    dates = [c for c, k in kinds.items() if k == "date"]
    timestamp = _first_named(dates, TIMESTAMP_NAMES)
    events = bool(timestamp) and rows_in_repeats >= EVENT_ROW_SHARE * max(len(ids), 1)

    columns = [
        _column(frame[c], len(tallies[str(c)]), str(c), kinds[str(c)], id_column, pii.get(str(c)))
        for c in frame.columns
    ]
    examples = [(str(i), int(n)) for i, n in repeated.head(3).items()]
    profile = TableProfile(
        rows=rows,
        id_column=id_column,
        kind="events" if events else "customers",
        reason=_reason(id_column, len(ids), customers, repeated, timestamp, events),
        customers=customers,
        duplicate_ids=len(repeated),
        duplicate_examples=examples,
        columns=columns,
    )
    if not events:
        return profile
    return _log_suggestions(profile, timestamp)


def _log_suggestions(profile: TableProfile, timestamp: str | None) -> TableProfile:
    amounts = profile.with_role("amount")
    quantities = profile.with_role("quantity")
    unit_prices = [c for c in amounts if UNIT_PRICE_NAMES.search(snake_case(c))]
    amount = next((c for c in amounts if c not in unit_prices), None)
    quantity = quantities[0] if quantities else None
    unit_price = unit_prices[0] if unit_prices and amount is None else None
    categories = profile.with_role("categorical")
    return replace(
        profile,
        timestamp_column=timestamp,
        amount_column=amount,
        # without an amount, the engine multiplies quantity by unit price
        quantity_column=quantity if amount is None and unit_price else None,
        unit_price_column=unit_price,
        category_column=_first_named(categories, CATEGORY_NAMES, fallback=False),
    )


def _reason(
    id_column: str, rows: int, customers: int, repeated: pd.Series, timestamp: str | None, events: bool
) -> str:
    if repeated.empty:
        return f"each of the {rows:,} rows has its own {id_column}"
    if events:
        return f"{id_column} repeats: {rows:,} rows for {customers:,} customers, and {timestamp} holds dates"
    example, times = str(repeated.index[0]), int(repeated.iloc[0])
    why = (
        "no column holds dates, so it is not an event log"
        if timestamp is None
        else "too few rows share an id for an event log"
    )
    return (
        f"{len(repeated):,} {id_column} values repeat (such as '{example}', {times} times), but {why}: "
        "read as a customer table with duplicate ids"
    )


def _first_named(columns: list[str], names: re.Pattern[str], *, fallback: bool = True) -> str | None:
    named = [c for c in columns if names.search(snake_case(c))]
    if named:
        return named[0]
    return columns[0] if columns and fallback else None


def _kind(cells: pd.Series, counts: pd.Series, name: str, id_column: str) -> str:
    """The column's kind, read from its distinct values weighted by how often each occurs: one
    pass over the column (the counts), then work in proportion to the distinct values only."""
    if name == id_column:
        return "id"
    if counts.empty:
        return "text"
    if pd.api.types.is_bool_dtype(cells):
        return "flag"
    if pd.api.types.is_datetime64_any_dtype(cells):
        return "date"
    values = pd.Series(counts.index, dtype=object)
    weights = counts.to_numpy()
    filled = int(weights.sum())
    distinct = len(counts)
    if distinct <= 2 and set(values.astype(str).str.strip().str.lower()) <= FLAG_VALUES:
        return "flag"
    id_like = bool(ID_LIKE.search(snake_case(name)))
    numbers = coerce_numeric(values)
    if weights[numbers.notna().to_numpy()].sum() >= NUMBER_SHARE * filled:
        # An order or store number is a whole number, and no feature, however often it repeats.
        return "id" if id_like and bool((numbers.dropna() % 1 == 0).all()) else "number"
    if _holds_dates(values):
        return "date"
    categories = distinct <= MAX_CATEGORIES or (distinct <= 4 * MAX_CATEGORIES and distinct <= 0.05 * filled)
    if id_like and not categories:
        return "id"
    return "category" if categories else "text"


def _filled_counts(cells: pd.Series) -> pd.Series:
    counts = cells.value_counts(sort=False, dropna=True)
    if counts.empty or pd.api.types.is_numeric_dtype(cells) or pd.api.types.is_datetime64_any_dtype(cells):
        return counts
    return counts[~missing_mask(pd.Series(counts.index, dtype=object)).to_numpy()]


def snake_case(name: str) -> str:
    """``"InvoiceNo"`` -> ``"invoice_no"``, ``"unit price"`` -> ``"unit_price"``: what names are matched on."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def _holds_dates(values: pd.Series) -> bool:
    sample = values.head(DATE_SAMPLE).astype(str).str.strip()
    # A date needs a separator; bare numbers were ruled out above, but not "2024" alone.
    shaped = sample.str.contains(r"\d[-/. :]\d|\d[-/ ][A-Za-z]|[A-Za-z][-/ ]\d", regex=True)
    if shaped.mean() < DATE_SHARE:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed", dayfirst=False)
    return bool(parsed.notna().mean() >= DATE_SHARE)


def _column(
    cells: pd.Series, distinct: int, name: str, kind: str, id_column: str, pii: str | None
) -> ColumnProfile:
    # NA, null, - are missing in ids and numbers; in a category "None" can be an answer.
    worded = kind in ("id", "number") and (cells.dtype == object or pd.api.types.is_string_dtype(cells))
    absent = missing_mask(cells) if worded else cells.isna()
    missing = float(absent.mean()) if len(cells) else 0.0
    filled = cells[~absent]
    # Customer ids are personal data too (pseudonymised by the privacy review): never shown.
    shown = pii is None and name != id_column
    examples = [str(v) for v in pd.unique(filled.head(EXAMPLE_SCAN))[:3]] if shown else []
    # A yes/no flag is a category to the engine; a 0/1 one is a number.
    numeric_flag = kind == "flag" and bool(coerce_numeric(filled.head(EXAMPLE_SCAN)).notna().all())
    return ColumnProfile(
        name=name,
        kind=kind,
        missing_share=round(missing, 4),
        distinct=distinct,
        examples=examples,
        role=_role(snake_case(name), kind, name == id_column, pii, numeric_flag=numeric_flag),
        pii=pii,
    )


def _role(name: str, kind: str, is_id: bool, pii: str | None, *, numeric_flag: bool) -> str:
    if is_id:
        return "id"
    if PROTECTED_NAMES.search(name) or pii == "date_of_birth":
        return "protected-candidate"
    if pii or kind in ("id", "text"):
        return "ignore"
    if (OUTCOME_NAMES.search(name) and kind in ("flag", "category")) or (
        kind == "number" and OUTCOME_NUMBERS.search(name)
    ):
        return "outcome-candidate"
    if kind == "date":
        return "timestamp"
    if kind == "category" or (kind == "flag" and not numeric_flag):
        return "categorical"
    if kind == "number" and QUANTITY_NAMES.search(name):
        return "quantity"
    if kind == "number" and AMOUNT_NAMES.search(name):
        return "amount"
    return "feature"
