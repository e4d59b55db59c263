"""Data sources that push the feature work down to the engine holding the log.

A run on a source (:func:`segment_source`) computes the per-customer features inside DuckDB,
PostgreSQL or Spark with the compiled feature SQL, fetches only the feature table, fits on a stratified
sample, and labels every customer inside the engine. See :mod:`segmentation.sources.run`.
"""

from __future__ import annotations

from .base import Source
from .duck import DEFAULT_MEMORY_LIMIT, DuckDBSource, ParquetSource
from .postgres import PostgresSource
from .run import DEFAULT_SAMPLE_SIZE, SourceRun, segment_source
from .sample import MIN_PER_STRATUM, SMALLEST_SAMPLE
from .spark import SparkSource
from .text import source_from_text

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "DEFAULT_SAMPLE_SIZE",
    "MIN_PER_STRATUM",
    "SMALLEST_SAMPLE",
    "DuckDBSource",
    "ParquetSource",
    "PostgresSource",
    "Source",
    "SourceRun",
    "SparkSource",
    "segment_source",
    "source_from_text",
]
