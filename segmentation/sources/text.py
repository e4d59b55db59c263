"""A source named in one line of text, as the command line and a spec file name it.

* ``duckdb:<file>:<table>`` — a table of a DuckDB file (``:<table>`` may be left out for
  ``transactions``);
* ``parquet:<folder or glob>`` — Parquet files read in place by DuckDB;
* ``postgresql:<dsn>#<table>`` — a PostgreSQL table; ``<dsn>`` is a URL
  (``postgresql://user@host:5432/db``) or key=value pairs;
* ``spark:<master>#<table>`` — a Spark table or view, in a session on ``<master>``
  (``local[2]``, ``spark://host:7077``, or ``sc://host:15002/;token=...`` for Spark Connect);
* ``spark:<master>:parquet:<folder>`` — Parquet files under a folder (any path Spark reads:
  local, ``s3a://``, ``abfss://``...), read by Spark.

A master address holds colons of its own, so the Spark forms are cut at the last ``#``, else
at the first ``:parquet:``.
"""

from __future__ import annotations

from ..errors import SegmentationError
from .base import LOG_TABLE, Source
from .duck import DEFAULT_MEMORY_LIMIT, DuckDBSource, ParquetSource
from .postgres import PostgresSource
from .spark import SparkSource

FORMS = (
    "duckdb:<file>:<table>, parquet:<folder>, postgresql:<dsn>#<table>, "
    "spark:<master>#<table> or spark:<master>:parquet:<folder>"
)
SPARK_FORMS = "spark:<master>#<table> or spark:<master>:parquet:<folder>, e.g. spark:local[2]#sales"


def source_from_text(text: str, *, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Source:
    """Open the source ``text`` names; raises :class:`SegmentationError` saying what is wrong
    with the text (an unknown kind, a missing part) or with what it points at."""
    kind, colon, rest = text.strip().partition(":")
    kind = kind.lower()
    if not colon or not rest:
        raise SegmentationError(f"cannot read the source {text!r}: write it as {FORMS}")
    if kind == "duckdb":
        path, _, table = rest.rpartition(":") if rest.count(":") else (rest, "", "")
        if not path:
            raise SegmentationError(f"the DuckDB source {text!r} names no file: write duckdb:<file>:<table>")
        return DuckDBSource(path, table=table or LOG_TABLE)
    if kind == "parquet":
        return ParquetSource(rest, memory_limit=memory_limit)
    if kind in ("postgresql", "postgres"):
        dsn, hash_, table = rest.rpartition("#")
        if not hash_ or not dsn or not table:
            raise SegmentationError(
                f"the PostgreSQL source {text!r} names no table: end it with #<table>, "
                "e.g. postgresql:postgresql://user@host/db#sales.transactions"
            )
        # "postgresql:postgresql://..." and "postgresql://..." both name a URL.
        if dsn.startswith("//"):
            dsn = f"{kind}:{dsn}"
        return PostgresSource(dsn, table)
    if kind == "spark":
        return _spark_source(text, rest)
    raise SegmentationError(f"unknown source kind {kind!r} in {text!r}: write it as {FORMS}")


def _spark_source(text: str, rest: str) -> Source:
    master, hash_, table = rest.rpartition("#")
    if hash_:
        if not master or not table:
            raise SegmentationError(
                f"the Spark source {text!r} needs a master and a table: write {SPARK_FORMS}"
            )
        return SparkSource(master, table=table)
    master, marker, folder = rest.partition(":parquet:")
    if not marker or not master or not folder:
        raise SegmentationError(
            f"the Spark source {text!r} names no table or Parquet folder: write {SPARK_FORMS}"
        )
    return SparkSource(master, parquet=folder)
