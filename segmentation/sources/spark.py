"""A Spark source: the log is a Spark table or a Parquet folder, and Spark does the work.

The session is one the caller passes (it is left running) or one built from a master address:
``local[2]``, ``spark://host:7077`` (``builder.master``) or ``sc://host:15002/;token=...`` for
Spark Connect and Databricks Connect (``builder.remote``); a session built here is stopped on
:meth:`SparkSource.close`. The session time zone is set to UTC whatever it was (the feature
SQL reads hours and weekdays of instants as Python does, in UTC) and restored on close.

Results leave Spark through :meth:`DataFrame.toLocalIterator`: the driver fetches one
partition at a time, so neither it nor Python holds a whole table (``toArrow`` and
``toPandas`` collect every partition first). Python turns each ``size`` rows into a frame with
the column types of the result's schema, as Arrow would.

``CREATE TABLE ... AS`` needs a catalog with a warehouse, which a plain local session may not
have, so a *temporary* table is a temporary view of a cached DataFrame (materialised at once
by a count; unpersisted by :meth:`SparkSource.drop_table`). A labels table is a managed table
written with ``saveAsTable`` into the session's warehouse (``warehouse`` sets
``spark.sql.warehouse.dir`` for a session built here), and labels Parquet is a folder of part
files written by Spark's own Parquet writer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pandas as pd

from ..errors import SegmentationError
from .base import DEFAULT_BATCH, LOG_TABLE, checked_table_name, table_exists_error

SESSION_ZONE = "UTC"
_ZONE_KEY = "spark.sql.session.timeZone"


def _quoted(name: str) -> str:
    return ".".join("`" + part.replace("`", "``") + "`" for part in name.split("."))


def _spark_error(error: Exception) -> str:
    # A Spark AnalysisException carries the JVM's stack trace after its first line.
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def build_session(
    master: str, *, warehouse: str | None = None, app_name: str = "segplatform"
) -> tuple[Any, bool]:
    """A session on ``master`` (``sc://...`` through Spark Connect), UTC, without the UI, and
    whether it is new (``getOrCreate`` hands back a session this process already runs, which
    is then not this source's to stop)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master).config("spark.ui.enabled", "false")
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        if warehouse:
            builder = builder.config("spark.sql.warehouse.dir", warehouse)
    builder = builder.config(_ZONE_KEY, SESSION_ZONE)
    running = None if master.startswith("sc://") else SparkSession.getActiveSession()
    try:
        return builder.getOrCreate(), running is None
    except Exception as error:  # the JVM's or the Connect client's own error types
        raise SegmentationError(f"cannot start Spark on {master!r}: {_spark_error(error)}") from None


def _frame(rows: list[Any], columns: list[str], arrow_schema: Any) -> pd.DataFrame:
    """``rows`` as a frame typed like Arrow's conversion of the same result (NULL as NaN/None)."""
    import pyarrow as pa

    arrays = [pa.array([row[i] for row in rows], type=field.type) for i, field in enumerate(arrow_schema)]
    return pa.Table.from_arrays(arrays, names=columns).to_pandas()


class SparkSource:
    """The Spark table or view ``table``, or the Parquet files under the folder ``parquet``
    (recursively), in the session ``session_or_master`` (a SparkSession, or a master address
    for a session built here, see :func:`build_session`). Exactly one of ``table`` and
    ``parquet`` is given."""

    dialect = "spark"

    def __init__(
        self,
        session_or_master: Any,
        table: str | None = None,
        parquet: str | os.PathLike[str] | None = None,
        *,
        warehouse: str | None = None,
    ) -> None:
        if (table is None) == (parquet is None):
            raise SegmentationError(
                "a Spark source reads either a table or a Parquet folder: give one of them"
            )
        self.master = session_or_master if isinstance(session_or_master, str) else None
        if self.master is not None:
            self.session, self.owns_session = build_session(self.master, warehouse=warehouse)
        else:
            self.session, self.owns_session = session_or_master, False
        self._zone_before = self.session.conf.get(_ZONE_KEY)
        self.session.conf.set(_ZONE_KEY, SESSION_ZONE)
        self._cached: dict[str, Any] = {}
        self._view = False
        self.table, self.parquet = table, None if parquet is None else str(parquet)
        try:
            self._register_log()
        except SegmentationError:
            self.close()
            raise

    def _register_log(self) -> None:
        if self.parquet is not None:
            try:
                # Recursive like the DuckDB Parquet source; mergeSchema lets files differ in columns.
                log = (
                    self.session.read.option("recursiveFileLookup", "true")
                    .option("mergeSchema", "true")
                    .parquet(self.parquet)
                )
            except Exception as error:
                hint = (
                    "write the timestamps in microseconds (pandas: to_parquet(..., coerce_timestamps='us'))"
                    if "TIMESTAMP(NANOS" in str(error)
                    else "give a folder holding *.parquet files"
                )
                raise SegmentationError(
                    f"Spark cannot read Parquet at {self.parquet}: {_spark_error(error)}; {hint}"
                ) from None
            log.createOrReplaceTempView(LOG_TABLE)
            self._view = True
            return
        assert self.table is not None
        checked_table_name(self.table, "log table")
        if not self.session.catalog.tableExists(self.table):
            raise SegmentationError(f"Spark has no table or view {self.table!r}: check the name after '#'")
        if self.table != LOG_TABLE:
            self.session.table(_quoted(self.table)).createOrReplaceTempView(LOG_TABLE)
            self._view = True

    def describe(self) -> str:
        where = f"parquet:{self.parquet}" if self.parquet is not None else f"#{self.table}"
        return f"spark:{self.master or 'session'}{':' if self.parquet is not None else ''}{where}"

    def batches(self, sql: str, size: int = DEFAULT_BATCH) -> Iterator[pd.DataFrame]:
        from pyspark.sql.pandas.types import to_arrow_schema

        frame = self.session.sql(sql)
        columns, schema = list(frame.columns), to_arrow_schema(frame.schema)
        rows = frame.toLocalIterator()
        while chunk := list(islice(rows, size)):
            yield _frame(chunk, columns, schema)

    def has_table(self, name: str) -> bool:
        return bool(self.session.catalog.tableExists(name))

    def write_table(self, name: str, sql: str, *, replace: bool = False, temporary: bool = False) -> None:
        checked_table_name(name)
        frame = self.session.sql(sql)
        if temporary:
            # Only this source's own cached view is dropped: a catalog table of that name stays
            # (the temporary view is found first, as in the other engines).
            earlier = self._cached.pop(name, None)
            if earlier is not None:
                earlier.unpersist()
            frame = frame.cache()
            frame.count()  # materialise now: later reads must not recompute the log's aggregation
            frame.createOrReplaceTempView(name)
            self._cached[name] = frame
            return
        if not replace and self.has_table(name):
            raise table_exists_error(name)
        frame.write.mode("overwrite" if replace else "errorifexists").saveAsTable(name)

    def drop_table(self, name: str) -> None:
        checked_table_name(name)
        cached = self._cached.pop(name, None)
        if cached is not None:
            self.session.catalog.dropTempView(name)
            cached.unpersist()
            return
        self.session.sql(f"DROP TABLE IF EXISTS {_quoted(name)}")

    def write_parquet(self, sql: str, path: str) -> None:
        """Spark's Parquet writer: ``path`` becomes a folder of part files (read it with
        ``pandas.read_parquet(path)``). A previous Spark output there (one with ``_SUCCESS``)
        or a file is replaced; any other existing folder is refused, not deleted."""
        local = "://" not in path and not path.startswith("dbfs:")
        if (
            local
            and os.path.isdir(path)
            and os.listdir(path)
            and not os.path.exists(os.path.join(path, "_SUCCESS"))
        ):
            raise SegmentationError(
                f"{path} is a folder that Spark did not write: give a new path for the labels Parquet"
            )
        if local and os.path.isfile(path):
            os.remove(path)
        self.session.sql(sql).write.mode("overwrite").parquet(path)

    def close(self) -> None:
        for name in list(self._cached):
            self.drop_table(name)
        if self.owns_session:
            self.session.stop()
            return
        if self._view:
            self.session.catalog.dropTempView(LOG_TABLE)
            self._view = False
        if self._zone_before is not None:
            self.session.conf.set(_ZONE_KEY, self._zone_before)
