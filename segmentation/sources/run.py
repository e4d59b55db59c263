"""A segmentation run on a source: the engine computes, Python fits on a sample.

:func:`segment_source` (a) computes every customer's features inside the engine with the
compiled feature SQL, into a temporary table, (b) streams that table in batches, keeping a
stratified sample (:mod:`segmentation.sources.sample`), (c) fits
:func:`segmentation.segment` on the sample as a customer table of those features, with the
heavy-tail choices of a transaction log, and (d) scores every customer inside the engine with
:func:`segmentation.sql.features.compile_transaction_scorer`, writing the labels back to a
table and/or Parquet and streaming them into ``labels.csv``. What travels from the engine:
the feature table (once), a few summary rows, and the labels.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.features import RATIO_SCALE
from ..defaults import resolve_defaults
from ..errors import SegmentationError
from ..model.artefact import SegmentationModel
from ..pipeline import segment
from ..result import SegmentationResult
from ..spec import SegmentationSpec
from ..sql.features import compile_transaction_scorer
from .base import DEFAULT_BATCH, Source, checked_table_name, table_exists_error
from .plan import (
    candidate_columns,
    default_as_of,
    features_sql,
    last_event_sql,
    source_groups,
    summary_sql,
    usable_columns,
)
from .sample import STRATUM, allocate, keep_sample, stratified_sql

DEFAULT_SAMPLE_SIZE = 200_000
FEATURE_TABLE = "_seg_source_features"
LABELS_TABLE = "_seg_source_labels"
LABEL_COLUMNS = ("customer_id", "segment", "segment_name")
Progress = Callable[[str, float], None]


def _no_progress(stage: str, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class SourceRun:
    """What a source run produces.

    result : the fit on the sample (model, the sample's labels, profile, metrics).
    sample : the sampled customers' features, with their stratum (``_seg_stratum``).
    labels : every customer's ``customer_id``, ``segment``, ``segment_name`` as scored in the
        engine, when no ``labels_csv`` path was given (else None: they are in the file).
    metrics : customers, sampled, strata (stratum -> customers, sampled), seconds per step,
        rows fetched per step, feature groups, as_of, the source, where labels were written.
    """

    result: SegmentationResult
    sample: pd.DataFrame
    metrics: dict[str, Any]
    labels: pd.DataFrame | None = None
    labels_csv: Path | None = None
    scorer_sql: str = field(default="", repr=False)

    @property
    def model(self) -> SegmentationModel:
        return self.result.model


def _one_row(source: Source, sql: str) -> dict[str, Any]:
    rows = [frame for frame in source.batches(sql, 10)]
    frame = pd.concat(rows) if rows else pd.DataFrame()
    return {} if frame.empty else {k.lower(): v for k, v in frame.iloc[0].items()}


def _check_spec(spec: SegmentationSpec) -> None:
    if not spec.is_transactions:
        raise SegmentationError(
            "a source run reads a transaction log: set 'input_kind' to 'transactions' with its columns",
            key="input_kind",
        )
    carried = [*spec.protected_columns, *spec.outcome_columns]
    if carried:
        raise SegmentationError(
            f"a source run carries no per-customer attributes ({', '.join(carried)}): "
            "leave 'protected_columns' and 'outcome_columns' out, or run on a file"
        )


def _clustering_spec(
    spec: SegmentationSpec, usable: list[str], sample: pd.DataFrame
) -> tuple[SegmentationSpec, Any]:
    """The sample's customer-table spec, with the "auto" transforms decided as for a log's
    engineered features (log-RFM for amounts, counts and durations)."""
    table_spec = replace(
        spec,
        id_column="customer_id",
        numeric_columns=tuple(usable),
        input_kind="customers",
        timestamp_column=None,
        amount_column=None,
        quantity_column=None,
        unit_price_column=None,
        category_column=None,
        features=None,
        excluded_features=(),
        as_of=None,
    )
    values = sample[usable].astype(float)
    return resolve_defaults(table_spec, values, ratio_scale=RATIO_SCALE)


def segment_source(
    source: Source,
    spec: SegmentationSpec,
    *,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    labels_table: str | None = None,
    replace_labels: bool = False,
    labels_parquet: str | Path | None = None,
    labels_csv: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress = _no_progress,
) -> SourceRun:
    """Segment the transaction log of ``source`` without loading it into Python.

    Fits on a stratified sample of ``min(sample_size, customers)`` customers and labels every
    customer inside the engine. ``labels_table`` is created (``CREATE TABLE ... AS``; an
    existing one only replaced with ``replace_labels``), ``labels_parquet`` written by the
    engine, and ``labels_csv`` streamed from the engine; without ``labels_csv`` the labels are
    returned as a frame.

    Raises :class:`SegmentationError` for a spec a source cannot run (a customer table,
    attribute columns, the ``affinity``/``clv``/``trajectory`` groups), a sample size under
    :data:`segmentation.sources.sample.SMALLEST_SAMPLE`, or a log with no event before ``as_of``.
    """
    _check_spec(spec)
    groups, skipped = source_groups(spec)
    if labels_table:
        checked_table_name(labels_table)
        # Refused before the engine's work and the fit, not after them.
        if not replace_labels and source.has_table(labels_table):
            raise table_exists_error(labels_table)
    seconds: dict[str, float] = {}
    fetched: dict[str, int] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 3)
        clock = now

    progress("as_of", 0.02)
    as_of = spec.as_of_date or default_as_of(
        _one_row(source, last_event_sql(spec, source.dialect)).get("last_t")
    )
    progress("features in the engine", 0.05)
    source.write_table(
        FEATURE_TABLE, stratified_sql(features_sql(spec, as_of, source.dialect, groups)), temporary=True
    )
    lap("features")

    columns = candidate_columns(groups)
    summary = _one_row(source, summary_sql(FEATURE_TABLE, columns, source.dialect))
    usable, left_out = usable_columns(columns, summary, groups, spec.excluded_features)
    strata_rows = pd.concat(
        list(source.batches(f"SELECT {STRATUM} AS s, COUNT(*) AS n FROM {FEATURE_TABLE} GROUP BY {STRATUM}"))
    )
    counts = {int(s): int(n) for s, n in zip(strata_rows["s"], strata_rows["n"], strict=True)}
    customers = sum(counts.values())
    allocation = allocate(counts, sample_size)
    fetched["summaries"] = 1 + len(strata_rows)
    lap("strata")

    progress("streaming the feature table", 0.15)
    sample, rows = keep_sample(
        source.batches(f"SELECT * FROM {FEATURE_TABLE}", batch_size), allocation, spec.random_state
    )
    fetched["features"] = rows
    sample = sample.sort_values("customer_id", ignore_index=True)
    lap("sample")

    progress("fitting on the sample", 0.3)
    fit_spec, decided = _clustering_spec(spec, usable, sample)
    result = segment(sample[["customer_id", *usable]], fit_spec)
    lap("fit")

    progress("scoring in the engine", 0.85)
    scorer = compile_transaction_scorer(result.model, source.dialect, spec=spec, as_of=as_of)
    source.drop_table(FEATURE_TABLE)  # its memory is the engine's to score with
    # Scored into a table first: an engine spills a statement it writes, while a result it
    # streams out is held in memory (DuckDB runs out of memory on a log larger than its limit).
    if labels_table:
        source.write_table(labels_table, scorer, replace=replace_labels)
    else:
        source.write_table(LABELS_TABLE, scorer, temporary=True)
    labels_sql = f"SELECT * FROM {labels_table or LABELS_TABLE}"
    if labels_parquet:
        source.write_parquet(labels_sql, str(labels_parquet))
    ordered = f"SELECT {', '.join(LABEL_COLUMNS)} FROM ({labels_sql}) AS _seg_labels"
    lap("score")
    labels_frame, written = None, None
    if labels_csv is not None:
        written = Path(labels_csv)
        fetched["labels"] = _stream_csv(source.batches(ordered, batch_size), written)
    else:
        labels_frame = pd.concat(list(source.batches(ordered, batch_size)), ignore_index=True)
        fetched["labels"] = len(labels_frame)
    lap("labels")
    progress("done", 1.0)

    sampled = sample[STRATUM].value_counts().to_dict()
    metrics = {
        "source": source.describe(),
        "dialect": source.dialect,
        "as_of": as_of.isoformat(),
        "feature_groups": list(groups),
        "feature_groups_skipped": skipped,
        "features": usable,
        "features_left_out": left_out,
        "customers": customers,
        "sample_size": sample_size,
        "sampled": len(sample),
        "strata": {
            str(s): {"customers": counts[s], "sampled": int(sampled.get(s, 0))} for s in sorted(counts)
        },
        "strata_by": "quintiles of frequency x quintiles of monetary_total",
        "seconds": seconds,
        "rows_fetched": fetched,
        "labels_table": labels_table,
        "labels_parquet": None if labels_parquet is None else str(labels_parquet),
        "defaults": decided,
        "k": result.model.n_segments,
    }
    return SourceRun(result, sample, metrics, labels_frame, written, scorer)


def _stream_csv(batches: Iterator[pd.DataFrame], path: Path) -> int:
    """Write the label batches to ``path`` as they arrive; the number of rows written."""
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LABEL_COLUMNS)
        for batch in batches:
            writer.writerows(batch[list(LABEL_COLUMNS)].itertuples(index=False, name=None))
            rows += len(batch)
    return rows
