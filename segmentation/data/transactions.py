"""Cleaning a transaction log into purchase and refund events, and reporting what was dropped.

Real logs are messy. The rules, each counted in the data-quality report:

- a row without a customer id (blank, or a missing token such as ``NA`` or ``null``:
  :mod:`segmentation.data.missing`) is dropped (``rows_without_id``);
- exact duplicate rows are counted (``duplicate_rows``) and removed only when the spec sets
  ``drop_duplicates``, because two identical purchases on one day can be real;
- a blank timestamp is dropped (``missing_timestamps``); a timestamp no known format reads is
  dropped and reported with examples (``unparseable_timestamps``); a column where no cell
  parses is an error, since then the column is the wrong one rather than a few bad cells;
- amount is the amount column, or quantity × unit price; a row without one is dropped
  (``missing_amounts``);
- a negative amount or quantity is a refund (return, cancellation), not a purchase
  (``refunds``); its absolute value is kept as the refunded amount.

Amounts are kept in whole cents and times in whole seconds (both int64): every sum over them
is exact, so a multi-threaded aggregation gives the same features on every run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from ..model.artefact import coerce_numeric
from ..spec import SegmentationSpec
from .missing import missing_mask, missing_words

# Tried in order on the cells no earlier format read. ISO first (what systems export); the
# day-first and month-first slash forms are ambiguous, so the one that reads more of the
# remaining cells goes first (a tie goes to day-first, the European convention).
ISO = "ISO8601"
DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y")
OTHER_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
EXAMPLES = 3
NO_CATEGORY = "(none)"
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Events:
    """A clean log: one row an event.

    ``frame`` columns: ``customer_id`` (text, as a Categorical), ``t`` (int64 seconds since 1970-01-01 UTC),
    ``cents`` (int64, never negative), ``refund`` (bool) and ``category`` (text or missing;
    present only when the spec names a category column; a Categorical).
    """

    frame: pd.DataFrame
    quality: dict[str, Any]


def clean_transactions(frame: pd.DataFrame, spec: SegmentationSpec) -> Events:
    """Turn a raw log into :class:`Events`, counting every row dropped and why."""
    timestamp_column = spec.timestamp_column
    if timestamp_column is None:
        raise SegmentationError("a transaction log needs 'timestamp_column': name the event time column")
    needed = [
        c
        for c in (
            spec.id_column,
            spec.timestamp_column,
            spec.amount_column,
            spec.quantity_column,
            spec.unit_price_column,
            spec.category_column,
        )
        if c
    ]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise SegmentationError(
            f"column(s) not found in the transaction log: {', '.join(absent)}; "
            f"the log has {', '.join(map(str, frame.columns))}"
        )
    quality: dict[str, Any] = {"input_kind": "transactions", "rows": len(frame)}

    duplicated = frame.duplicated(keep="first")
    quality["duplicate_rows"] = int(duplicated.sum())
    if spec.drop_duplicates:
        frame = frame.loc[~duplicated]
    quality["duplicates_removed"] = quality["duplicate_rows"] if spec.drop_duplicates else 0

    id_codes, id_names = text_codes(frame[spec.id_column], tokens_missing=True)
    has_id = id_codes >= 0
    quality["rows_without_id"] = int((~has_id).sum())
    quality["missing_id_words"] = missing_words(frame[spec.id_column][~has_id]) if not has_id.all() else {}
    if not has_id.all():
        frame, id_codes = frame.loc[has_id], id_codes[has_id]
    if frame.empty:
        raise SegmentationError(f"no row of the transaction log has a customer id in '{spec.id_column}'")

    seconds, blank, unparsed = parse_timestamps(frame[timestamp_column], timestamp_column)
    quality["missing_timestamps"] = int(blank.sum())
    quality["unparseable_timestamps"] = int(unparsed.sum())
    quality["unparseable_timestamp_examples"] = (
        frame.loc[unparsed, timestamp_column].astype(str).drop_duplicates().head(EXAMPLES).tolist()
    )

    amount, negative = _amounts(frame, spec)
    no_amount = np.isnan(amount) & ~blank & ~unparsed
    quality["missing_amounts"] = int(no_amount.sum())
    keep = ~blank & ~unparsed & ~np.isnan(amount)

    # Ids and categories as sorted Categoricals: the feature step reads their integer codes
    # instead of hashing text again.
    events = pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(id_codes[keep], categories=id_names),
            "t": seconds[keep],
            "cents": np.round(np.abs(amount[keep]) * 100).astype(np.int64),
            "refund": negative[keep],
        }
    )
    if spec.category_column:
        codes, names = text_codes(frame[spec.category_column], blank_as=NO_CATEGORY)
        events["category"] = pd.Categorical.from_codes(codes[keep], categories=names)
    quality["refunds"] = int(events["refund"].sum())
    quality["purchases"] = int(len(events) - quality["refunds"])
    quality["events"] = len(events)
    quality["dropped"] = {
        "no customer id": quality["rows_without_id"],
        "duplicate row (drop_duplicates)": quality["duplicates_removed"],
        "no timestamp": quality["missing_timestamps"],
        "unparseable timestamp": quality["unparseable_timestamps"],
        "no amount": quality["missing_amounts"],
    }
    if events.empty:
        raise SegmentationError("no row of the transaction log has a customer id, a timestamp and an amount")
    # Customers whose every row was dropped are not categories of the result.
    events["customer_id"] = _without_unused(events["customer_id"])
    return Events(frame=events.reset_index(drop=True), quality=quality)


def _without_unused(values: pd.Series) -> pd.Series:
    codes = values.cat.codes.to_numpy()
    names = values.cat.categories.to_numpy()
    used = np.bincount(codes, minlength=len(names)) > 0
    if used.all():
        return values
    remap = (np.cumsum(used) - 1).astype(np.int32)
    return pd.Series(pd.Categorical.from_codes(remap[codes], categories=names[used]), index=values.index)


def text_codes(
    cells: pd.Series, *, blank_as: str | None = None, tokens_missing: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as text with surrounding spaces removed, coded: ``(codes, names)`` with the
    names sorted and ``-1`` for a blank cell (or the code of ``blank_as`` when given). With
    ``tokens_missing`` (ids), ``NA``, ``null`` and the other missing tokens are blank too.

    Text work happens on the distinct values only, so 10M rows of 200,000 ids cost a hash
    pass rather than 10M string operations.
    """
    raw_codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object)).astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    if tokens_missing:
        blank |= missing_mask(text).to_numpy(dtype=bool)
    if blank_as is not None:
        text = text.mask(blank, blank_as)
        missing = blank_as
    else:
        text = text.mask(blank, pd.NA)
        missing = None
    codes, names = pd.factorize(text, sort=True, use_na_sentinel=True)
    names = np.asarray(names, dtype=object)
    if missing is not None:
        where = np.searchsorted(names, missing)
        if where == len(names) or names[where] != missing:
            names = np.insert(names, where, missing)
            codes = np.where(codes >= where, codes + 1, codes)
        fallback = int(where)
    else:
        fallback = -1
    mapping = np.append(codes, fallback).astype(np.int32)  # raw code -1 (NaN) -> last entry
    return mapping[raw_codes], names


def parse_timestamps(cells: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read timestamps as int64 seconds since the epoch (UTC, time zones converted).

    Returns ``(seconds, blank, unparsed)``; ``seconds`` holds 0 where a cell is blank or
    unparsed. Raises :class:`SegmentationError` naming the column when no filled cell parses.
    """
    if pd.api.types.is_datetime64_any_dtype(cells):
        parsed = _as_utc_naive(cells)
        blank = parsed.isna().to_numpy()
        return _seconds(parsed), blank, np.zeros(len(cells), dtype=bool)
    # Parse each distinct text once: logs repeat dates (and often whole timestamps) a lot.
    raw_codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    seconds, blank, unparsed = _parse_distinct(pd.Series(np.asarray(uniques, dtype=object)), column)
    present = raw_codes >= 0
    safe = np.where(present, raw_codes, 0)
    if len(uniques) == 0:
        raise SegmentationError(f"'{column}' has no dates: every cell is blank")
    return (
        np.where(present, seconds[safe], 0),
        ~present | blank[safe],
        present & unparsed[safe],
    )


def _parse_distinct(cells: pd.Series, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    text = cells.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool)
    parsed = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    todo = ~blank
    if todo.any():
        parsed[todo] = _parse(text[todo], ISO)
        for formats in _ordered_formats(text[todo & parsed.isna().to_numpy()]):
            for fmt in formats:
                left = todo & parsed.isna().to_numpy()
                if not left.any():
                    break
                parsed[left] = _parse(text[left], fmt)
    unparsed = todo & parsed.isna().to_numpy()
    if todo.any() and unparsed.all(where=todo):
        example = text[todo].iloc[0]
        raise SegmentationError(
            f"no date in '{column}' could be read (for example {example!r}): write dates as "
            "YYYY-MM-DD (optionally with a time) or DD/MM/YYYY, or choose another 'timestamp_column'"
        )
    if not todo.any():
        raise SegmentationError(f"'{column}' has no dates: every cell is blank")
    return _seconds(parsed), blank, unparsed


def _parse(text: pd.Series, fmt: str) -> pd.Series:
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return parsed.dt.tz_localize(None).astype("datetime64[ns]")


def _ordered_formats(remaining: pd.Series) -> list[tuple[str, ...]]:
    if remaining.empty:
        return []
    sample = remaining.head(10_000)
    day = sum(int(_parse(sample, f).notna().sum()) for f in DAY_FIRST)
    month = sum(int(_parse(sample, f).notna().sum()) for f in MONTH_FIRST)
    slash = [DAY_FIRST, MONTH_FIRST] if day >= month else [MONTH_FIRST, DAY_FIRST]
    return [*slash, OTHER_FORMATS]


def _as_utc_naive(cells: pd.Series) -> pd.Series:
    if getattr(cells.dtype, "tz", None) is not None:
        cells = cells.dt.tz_convert("UTC").dt.tz_localize(None)
    return cells.astype("datetime64[ns]")


def _seconds(parsed: pd.Series) -> np.ndarray:
    nanos = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    seconds = np.floor_divide(nanos, 1_000_000_000)
    return np.where(parsed.isna().to_numpy(), 0, seconds).astype(np.int64)


def _amounts(frame: pd.DataFrame, spec: SegmentationSpec) -> tuple[np.ndarray, np.ndarray]:
    """Amount per row (NaN when absent) and whether the row is a refund."""
    if spec.amount_column:
        amount = coerce_numeric(frame[spec.amount_column]).to_numpy(dtype=float)
        negative = amount < 0
        if spec.quantity_column:
            quantity = coerce_numeric(frame[spec.quantity_column]).to_numpy(dtype=float)
            negative |= quantity < 0
        return amount, negative
    assert spec.quantity_column and spec.unit_price_column  # guaranteed by the spec
    quantity = coerce_numeric(frame[spec.quantity_column]).to_numpy(dtype=float)
    price = coerce_numeric(frame[spec.unit_price_column]).to_numpy(dtype=float)
    amount = quantity * price
    return amount, (quantity < 0) | (price < 0)


def default_as_of(events: Events) -> dt.date:
    """The day after the last event, so every event counts."""
    last = int(events.frame["t"].max())
    return dt.date(1970, 1, 1) + dt.timedelta(days=last // SECONDS_PER_DAY + 1)
