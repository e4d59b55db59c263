"""The scorers and the feature SQL compiled for Spark label and compute exactly as Python does,
run in a real local Spark session (``local[2]``, ANSI mode on as Spark 4 ships it).

Data goes in through Arrow with an explicit schema, so a NULL stays NULL, a stored NaN stays NaN
and timestamps are ``TIMESTAMP`` instants. One session serves the whole module. Without Java the
module is skipped, unless ``REQUIRE_SERVICES=1`` demands it run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from segmentation.model.artefact import SegmentationModel
from segmentation.model.columns import libm_log
from segmentation.spec import SegmentationSpec
from segmentation.sql.features import compile_transaction_scorer
from segmentation.sql.literals import literal_sql
from segmentation.sql.scorer import compile_scorer
from tests.segmentation import hostile_scorer
from tests.segmentation.hostile_scorer import Table, arrow_table, build_models, hostile_table
from tests.segmentation.log_databases import messy_log
from tests.segmentation.spark_session import SESSION_ZONE, load, log_arrow, start_spark
from tests.segmentation.test_features_sql import (
    AS_OF,
    SPEC,
    assert_same_features,
    feature_model,
    features_sql,
    python_features,
)
from tests.segmentation.test_sql_scorer import (
    Scenario,
    assert_parity,
    random_doubles,
    same_double,
    small_model,
)
from tests.segmentation.test_sql_scorer_cosine import build_cosine_models, cosine_hostile_table

ROWS = 25_000  # per hostile table: every edge appears hundreds of times, and Spark stays quick


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session for the module, stopped at its end."""
    session = start_spark()
    assert session.conf.get("spark.sql.ansi.enabled") == "true"  # the SQL must be ANSI-safe
    yield session
    session.stop()


def run(spark: Any, sql: str) -> pd.DataFrame:
    # Spark prints its own dialect back unchanged: what a client pastes is what ran here.
    assert sqlglot.parse_one(sql, read="spark").sql(dialect="spark") == sql
    return spark.sql(sql).toPandas()


def labelled(spark: Any, sql: str) -> pd.DataFrame:
    frame = run(spark, sql)
    assert list(frame.columns) == ["customer_id", "segment", "segment_name"]
    return frame.sort_values("customer_id", ignore_index=True)


# -- the random centroid model of test_sql_scorer -------------------------------------------
def scenario_arrow(scenario: Scenario) -> pa.Table:
    key = scenario.model.id_column
    arrays = {key: pa.array(scenario.frame[key].to_numpy())}
    for j, feature in enumerate(scenario.model.features):
        values = scenario.frame[feature].to_numpy()
        arrays[feature] = pa.array(values, mask=np.isnan(values) & ~scenario.as_nan[:, j])
    return pa.table(arrays)


@pytest.mark.parametrize(("dialect", "ansi"), [("spark", "true"), ("databricks", "false")])
def test_a_centroid_model_labels_hostile_rows_exactly_as_python_with_ansi_mode_on_or_off(
    spark: Any, make_scenario: Callable[..., Scenario], dialect: str, ansi: str
) -> None:
    """Ties, NULL and NaN, infinities, 1e308, subnormals, clipping and underflowing quotients;
    the statement never relies on ANSI mode's errors nor on their absence."""
    scenario = make_scenario(7, ROWS, n_features=8)
    assert scenario.as_nan.sum() > 1000 and (scenario.expected >= 0).all()
    load(spark, scenario_arrow(scenario), "customers")
    spark.conf.set("spark.sql.ansi.enabled", ansi)
    try:
        result = labelled(spark, compile_scorer(scenario.model, dialect))
    finally:
        spark.conf.set("spark.sql.ansi.enabled", "true")
    assert_parity(result, scenario)


def test_exact_ties_go_to_the_lowest_label_and_infinities_to_the_bounds(
    spark: Any, small_scenario: Callable[..., Scenario]
) -> None:
    nan, inf = float("nan"), float("inf")
    rows = [(0, 0), (0, 5), (0, -5), (-5, 0), (nan, 0.5), (-0.5, -0.5), (1, 0), (inf, -inf), (1e308, 1e-320)]
    scenario = small_scenario(small_model(), rows, nan_rows=5)
    # (inf, -inf) clips to (100, -100): as far from east as from south, and east wins
    assert scenario.expected.tolist() == [0, 2, 3, 1, 2, 1, 0, 0, 0]
    load(spark, scenario_arrow(scenario), "customers")
    assert_parity(labelled(spark, compile_scorer(scenario.model, "spark")), scenario)


# -- whole artefacts: categories, transforms, PCA, exemplars with noise, mixtures, cosine ---------
@pytest.fixture(scope="module")
def models() -> dict[str, SegmentationModel]:
    return build_models()[0]


@pytest.fixture(scope="module")
def artefact_table(spark: Any, models: dict[str, SegmentationModel]) -> Table:
    table = hostile_table(np.random.default_rng(7), models["exemplars"], ROWS)
    load(spark, arrow_table(table), "hostile_customers")
    return table


def assert_artefact_parity(spark: Any, model: SegmentationModel, table: Table, dialect: str) -> None:
    result = labelled(spark, compile_scorer(model, dialect, table="hostile_customers"))
    hostile_scorer.assert_parity(result, model, table, model.predict(table.frame))


@pytest.mark.parametrize(
    ("name", "dialect"),
    [("exemplars", "spark"), ("manhattan", "spark"), ("mixture", "spark"), ("diagonal", "databricks")],
)
def test_every_artefact_labels_every_hostile_row_exactly_as_python(
    spark: Any, models: dict[str, SegmentationModel], artefact_table: Table, name: str, dialect: str
) -> None:
    """One-hot and frequency categories with quoted, unseen and blank levels; log1p, robust and
    quantile columns; indicators; PCA; shared exemplars (ties) and a noise radius; mixtures."""
    expected = models[name].predict(artefact_table.frame)
    if name in ("exemplars", "manhattan"):
        assert (expected == -1).sum() > 100
    assert_artefact_parity(spark, models[name], artefact_table, dialect)


@pytest.fixture(scope="module")
def cosine() -> dict[str, SegmentationModel]:
    return build_cosine_models()


@pytest.fixture(scope="module")
def cosine_table(spark: Any, cosine: dict[str, SegmentationModel]) -> Table:
    table = cosine_hostile_table(np.random.default_rng(11), cosine["exemplars"], ROWS)
    load(spark, arrow_table(table), "cosine_customers")
    return table


@pytest.mark.parametrize("name", ["exemplars", "mixture pca"])
def test_cosine_models_label_zero_and_tiny_rows_exactly_as_python(
    spark: Any, cosine: dict[str, SegmentationModel], cosine_table: Table, name: str
) -> None:
    """Rows of zeros, cells just below and above the flush threshold, SQRT of the squares."""
    table = cosine_table
    sql = compile_scorer(cosine[name], "spark", table="cosine_customers")
    assert "SQRT(" in sql
    hostile_scorer.assert_parity(labelled(spark, sql), cosine[name], table, cosine[name].predict(table.frame))


# -- constants and functions ------------------------------------------------------------------
def test_every_constant_reads_back_as_the_very_same_double(spark: Any) -> None:
    values = random_doubles(2000)
    assert any(0 < abs(v) < 2.2250738585072014e-308 for v in values)
    wrong = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        row = spark.sql("SELECT " + ", ".join(literal_sql(v, "spark") for v in chunk)).collect()[0]
        wrong += [(v, r) for v, r in zip(chunk, row, strict=True) if not same_double(v, r)]
    assert not wrong, f"{len(wrong)} of {len(values)} constants changed, e.g. {wrong[:5]}"


def test_sparks_ln_differs_from_the_c_librarys_on_rows_the_log1p_scorers_label_exactly(
    spark: Any, models: dict[str, SegmentationModel], artefact_table: Table
) -> None:
    """Spark computes LN (and POWER) with Java's StrictMath, fdlibm, which rounds the last bit
    differently from the C library Python calls for a few values in a hundred. The log1p column
    of the hostile table meets such values, and the artefact tests above still find every label
    equal: one ulp moves no customer across a boundary there."""
    (column,) = [c for c in models["exemplars"].preprocessor.numeric if c.transform == "log1p"]
    p, _ = column.prepared(artefact_table.frame[column.name].to_numpy(dtype=np.float64))
    load(spark, pa.table({"i": np.arange(len(p)), "p": p}), "prepared")
    got = run(spark, "SELECT i, LN(1 + p) AS t FROM prepared").sort_values("i")["t"].to_numpy()
    reference = libm_log(1.0 + p)
    differ = got != reference
    assert 100 < differ.sum() < 0.1 * len(p), differ.sum()
    assert np.all(np.abs(got - reference) <= np.spacing(np.abs(reference)))


# -- the transaction log: features and a whole transaction scorer ------------------------------
@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return messy_log(3000, seed=21)


@pytest.fixture(scope="module")
def transactions(spark: Any, log: pd.DataFrame) -> pd.DataFrame:
    load(spark, log_arrow(log, ["amount"]), "transactions")
    return log


@pytest.fixture(scope="module")
def expected(log: pd.DataFrame) -> pd.DataFrame:
    return python_features(log, SegmentationSpec.from_dict(SPEC))


def test_every_compiled_feature_equals_python_bit_for_bit(
    spark: Any, transactions: pd.DataFrame, expected: pd.DataFrame
) -> None:
    """Recency, intervals, windows, quarters, decayed spend, entropy and affinity."""
    result = run(spark, features_sql(SegmentationSpec.from_dict(SPEC), "spark", expected))
    assert_same_features(result, expected)


def reading(sql: str, view: str) -> str:
    """``sql`` reading the view ``view`` instead of ``transactions``."""
    tree = sqlglot.parse_one(sql, read="spark")
    for table in tree.find_all(exp.Table):
        if table.name == "transactions":
            table.set("this", exp.to_identifier(view))
    return tree.sql(dialect="spark")


def test_priced_deduplicated_features_equal_python_whatever_the_session_time_zone(
    spark: Any, log: pd.DataFrame
) -> None:
    """Quantity times unit price, ``SELECT DISTINCT *``; a session at UTC+14 (another date for
    most events) changes nothing: the SQL reads TIMESTAMP instants and months from the UTC day."""
    priced = log.rename(columns={"amount": "unit_price"})
    priced["qty"] = np.where(np.arange(len(priced)) % 7 == 0, 3.0, 1.0)
    fields = {k: v for k, v in SPEC.items() if k != "amount_column"}
    spec = SegmentationSpec.from_dict(
        {**fields, "quantity_column": "qty", "unit_price_column": "unit_price", "drop_duplicates": True}
    )
    expected = python_features(priced, spec)
    load(spark, log_arrow(priced, ["unit_price", "qty"]), "priced_transactions")
    sql = reading(features_sql(spec, "spark", expected), "priced_transactions")
    assert "SELECT DISTINCT *" in sql
    spark.conf.set("spark.sql.session.timeZone", "Pacific/Kiritimati")
    try:
        result = run(spark, sql)
    finally:
        spark.conf.set("spark.sql.session.timeZone", SESSION_ZONE)
    assert_same_features(result, expected)


def test_a_transaction_scorer_labels_the_raw_log_as_the_model_labels_pythons_features(
    spark: Any, transactions: pd.DataFrame, expected: pd.DataFrame
) -> None:
    model = feature_model(
        ["recency_days", "monetary_total", "interval_std_days", "decayed_spend", "category_entropy"]
    )
    spec = SegmentationSpec.from_dict(SPEC)
    affinity = expected.attrs["affinity"]
    sql = compile_transaction_scorer(model, "spark", spec=spec, as_of=AS_OF, affinity=affinity)
    got = labelled(spark, sql).set_index("customer_id")["segment"].sort_index()
    want = pd.Series(model.predict(expected.reset_index()), index=expected.index)
    assert got.index.tolist() == want.index.tolist()
    assert (got.to_numpy() == want.to_numpy()).all()
    assert len(set(want.tolist())) == 2
