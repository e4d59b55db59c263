"""A local Spark session for the Spark scorer tests, and the reason when one cannot start.

Spark needs Java (Debian: ``openjdk-17-jre-headless``) and ``pyspark``; without them the tests
skip, unless ``REQUIRE_SERVICES=1`` demands they run. Nothing here needs Django.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

SESSION_ZONE = "UTC"


def spark_unavailable() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (Debian: openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (requirements.txt pins it)"
    return None


def require_spark() -> None:
    """Skip the test without Spark, or fail it when ``REQUIRE_SERVICES=1``."""
    reason = spark_unavailable()
    if reason is None:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def start_spark(*, warehouse: str | None = None) -> Any:
    """``local[2]``, no UI, UTC, two shuffle partitions, ANSI mode as Spark 4 ships it (on);
    managed tables go to ``warehouse`` (Spark's default is ``spark-warehouse`` in the working
    directory)."""
    require_spark()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("segplatform-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", SESSION_ZONE)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
    )
    if warehouse is not None:
        builder = builder.config("spark.sql.warehouse.dir", warehouse)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    # py4j logs its own shutdown after pytest has closed the streams it would write to
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return session


def spark_schema(table: pa.Table) -> Any:
    """The explicit Spark schema of an Arrow table: BIGINT, DOUBLE, STRING and TIMESTAMP columns."""
    from pyspark.sql import types as t

    kinds = {
        pa.int64(): t.LongType(),
        pa.float64(): t.DoubleType(),
        pa.string(): t.StringType(),
        pa.timestamp("us", tz="UTC"): t.TimestampType(),
    }
    return t.StructType([t.StructField(f.name, kinds[f.type], nullable=True) for f in table.schema])


def load(spark: Any, table: pa.Table, name: str) -> None:
    """``table`` as the temporary view ``name``: NULL stays NULL, a stored NaN stays NaN."""
    spark.createDataFrame(table, schema=spark_schema(table)).createOrReplaceTempView(name)


def log_arrow(log: pd.DataFrame, numbers: list[str]) -> pa.Table:
    """STRING ids and categories (NULL kept), TIMESTAMP instants, DOUBLE ``numbers`` (NaN as NULL)."""
    arrays = {
        "customer_id": pa.array(log["customer_id"].tolist(), type=pa.string()),
        "timestamp": pa.array(log["timestamp"].dt.tz_localize("UTC"), type=pa.timestamp("us", tz="UTC")),
        "category": pa.array(log["category"].tolist(), type=pa.string()),
    }
    for name in numbers:
        values = log[name].to_numpy(dtype=np.float64)
        arrays[name] = pa.array(values, mask=np.isnan(values))
    return pa.table(arrays)
