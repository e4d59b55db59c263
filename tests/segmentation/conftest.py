"""Fixtures for the SQL scorer: random models, hostile data, and the databases that run them.

Nothing here needs Django: the engine is plain Python, and the databases are reached directly
(stdlib ``sqlite3``, ``duckdb`` and psycopg 3).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
import pytest

from segmentation.model.artefact import CentroidModel

ID = "Customer ID"
# Spaces, capitals, reserved words, a double quote, a backtick and non-ASCII; no two names
# differ only by case (DuckDB's identifiers are case-insensitive).
FEATURE_NAMES = (
    "order",
    "Total Spend",
    'Say "hi"',
    "CamelCase",
    "select",
    "days since `last` visit",
    "Ünïcode €",
    "group",
)
TIE_FEATURE = 0  # centred on exactly 0, filled with 0: z is exactly 0 for zero and missing cells


@dataclass(frozen=True)
class Scenario:
    """A model and the data to score: ``frame`` holds NaN for every missing cell.

    ``as_nan`` marks missing cells that engines able to store NaN receive as NaN rather than
    NULL (Python reads both as missing).
    """

    model: CentroidModel
    frame: pd.DataFrame
    as_nan: np.ndarray

    @property
    def expected(self) -> np.ndarray:
        return self.model.predict(self.frame)


def random_model(rng: np.random.Generator, n_features: int, k: int) -> CentroidModel:
    """A model with constants across many magnitudes, zero and tiny coordinates, and ties."""
    n = n_features
    centers = np.where(rng.random(n) < 0.3, 0.0, rng.choice([-1, 1], n) * 10 ** rng.uniform(-6, 6, n))
    scales = 10 ** rng.uniform(-3, 5, n)
    centers[TIE_FEATURE], scales[TIE_FEATURE] = 0.0, 10 ** rng.uniform(0.5, 3)  # scale > 2
    scales[1] = 10 ** rng.uniform(-3, -0.5)  # a scale below 1
    reach = 10 ** rng.uniform(0, 6, (2, n))  # clip bounds from 1 to 1e6 scales away
    lower, upper = centers - reach[0] * scales, centers + reach[1] * scales
    fill = centers + scales * rng.normal(0, 1, n) * np.where(rng.random(n) < 0.2, 1e8, 1)  # some clip
    fill[TIE_FEATURE] = 0.0
    centroids = rng.normal(0, 1, (k, n)) * 10 ** rng.uniform(-1, 1.5, (k, 1))
    centroids[rng.random((k, n)) < 0.15] = 0.0
    centroids[rng.random((k, n)) < 0.1] = rng.choice([1e-200, -1e-170, 5e-324, 1e-155])
    centroids[1] = centroids[0]
    centroids[1, TIE_FEATURE] = -centroids[0, TIE_FEATURE]  # mirror images: ties where z0 == 0
    if k >= 3:
        centroids[-1] = centroids[1]  # an exact duplicate: it can never win
    return CentroidModel(
        id_column=ID,
        features=FEATURE_NAMES[:n],
        fill_values=tuple(map(float, fill)),
        lower=tuple(map(float, lower)),
        upper=tuple(map(float, upper)),
        centers=tuple(map(float, centers)),
        scales=tuple(map(float, scales)),
        centroids=tuple(tuple(map(float, row)) for row in centroids),
        segment_names=tuple(f"Segment {i} o'clock" for i in range(k)),
    )


def hostile_data(rng: np.random.Generator, model: CentroidModel, rows: int) -> Scenario:
    """Typical values mixed with NULL, NaN, ±inf, ±1e300, subnormals, bounds and ties."""
    n = len(model.features)
    center, scale = np.asarray(model.centers), np.asarray(model.scales)
    lower, upper = np.asarray(model.lower), np.asarray(model.upper)
    sign = rng.choice([-1.0, 1.0], (rows, n))
    kinds = {
        "typical": center + scale * rng.normal(0, 2, (rows, n)),
        "missing": np.full((rows, n), np.nan),
        "center": np.broadcast_to(center, (rows, n)),
        "near center": np.nextafter(center, sign * np.inf),
        "huge": sign * rng.choice([1e300, 1.7976931348623157e308, 1e200], (rows, n)),
        "tiny": sign * rng.choice([1e-300, 5e-324, 1e-310, 2.2250738585072014e-308], (rows, n)),
        "beyond": np.where(sign > 0, upper + scale * 1e7, lower - scale * 1e7),
        "infinite": sign * np.inf,
        "bound": np.where(sign > 0, upper, lower),
        "zero": sign * 0.0,
        "integer": np.round(center + scale * rng.normal(0, 2, (rows, n))),
    }
    weights = np.array([50, 9, 5, 3, 5, 5, 4, 3, 3, 5, 8], dtype=float)
    choice = rng.choice(len(kinds), (rows, n), p=weights / weights.sum())
    matrix = np.choose(choice, list(kinds.values()))
    # Rows sitting on the mirror-image centroids 0 and 1: exactly tied distances.
    on_pair = rng.random(rows) < 0.03
    target = center + scale * np.asarray(model.centroids[0])
    matrix[on_pair] = target
    matrix[on_pair, TIE_FEATURE] = rng.choice([0.0, np.nan], on_pair.sum())
    frame = pd.DataFrame(matrix, columns=list(model.features))
    frame.insert(0, ID, np.arange(1, rows + 1, dtype=np.int64) * 7 + 1_000_000)
    as_nan = np.isnan(matrix) & (rng.random((rows, n)) < 0.5)
    return Scenario(model=model, frame=frame, as_nan=as_nan)


@pytest.fixture(scope="session")
def make_scenario() -> Callable[..., Scenario]:
    """``make_scenario(seed, rows, k=None, n_features=None)``: a reproducible scenario."""

    def make(seed: int, rows: int, k: int | None = None, n_features: int | None = None) -> Scenario:
        rng = np.random.default_rng(seed)
        k = int(rng.integers(2, 11)) if k is None else k
        n = int(rng.integers(3, len(FEATURE_NAMES) + 1)) if n_features is None else n_features
        return hostile_data(rng, random_model(rng, n, k), rows)

    return make


@pytest.fixture(scope="session")
def scenario(make_scenario: Callable[..., Scenario]) -> Scenario:
    """The large parity run: 120,000 rows, eight features, k drawn from 2..10 (10 with this seed)."""
    return make_scenario(7, 120_000, n_features=len(FEATURE_NAMES))


@pytest.fixture(scope="session")
def small_scenario() -> Callable[..., Scenario]:
    """``small_scenario(model, rows, nan_rows=0)``: hand-written rows; missing cells among the
    first ``nan_rows`` rows are stored as NaN where the engine can hold it."""

    def make(model: CentroidModel, rows: list[tuple[float, ...]], nan_rows: int = 0) -> Scenario:
        frame = pd.DataFrame(rows, columns=list(model.features), dtype="float64")
        frame.insert(0, model.id_column, np.arange(1, len(rows) + 1, dtype=np.int64))
        as_nan = np.isnan(frame[list(model.features)].to_numpy())
        as_nan[nan_rows:] = False
        return Scenario(model=model, frame=frame, as_nan=as_nan)

    return make


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """``DATABASE_URL`` when it names PostgreSQL; otherwise skip (or fail if services are required)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    message = "DATABASE_URL does not name a PostgreSQL database"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def postgres(postgres_dsn: str) -> Iterator[psycopg.Connection]:
    """One psycopg 3 connection; tests only create TEMPORARY tables, gone when it closes."""
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        yield connection
