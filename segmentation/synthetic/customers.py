"""Customer tables with planted archetypes, for demos, tests and benchmarks.

Every generator takes a seed and returns the same table for the same seed; the planted
archetype of each customer is returned beside the table so recovery can be measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Archetypes a retailer would recognise: (name, recency days, orders a year, mean basket).
ARCHETYPES = (
    ("Loyal high spenders", 12.0, 26.0, 180.0),
    ("Regular mid spenders", 35.0, 10.0, 70.0),
    ("Lapsing one-timers", 240.0, 1.5, 45.0),
    ("Bargain hunters", 60.0, 14.0, 18.0),
)


def customer_table(
    n_customers: int = 1_000, *, seed: int = 0, messy: bool = True
) -> tuple[pd.DataFrame, np.ndarray]:
    """A customer table (all cells as text, as an upload arrives) and the planted archetype.

    Columns: ``customer_id``, ``recency_days``, ``orders_per_year``, ``avg_basket``,
    ``tenure_months`` and ``region`` (text). With ``messy``, about 1% of numeric cells are blank
    and a few hold words ("n/a"), as real exports do.
    """
    rng = np.random.default_rng(seed)
    archetype = rng.integers(0, len(ARCHETYPES), size=n_customers)
    params = np.array([a[1:] for a in ARCHETYPES])[archetype]
    recency = rng.gamma(shape=8.0, scale=params[:, 0] / 8.0)
    orders = rng.gamma(shape=10.0, scale=params[:, 1] / 10.0)
    basket = rng.gamma(shape=12.0, scale=params[:, 2] / 12.0)
    tenure = rng.integers(1, 120, size=n_customers)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{100000 + i}" for i in range(n_customers)],
            "recency_days": np.round(recency, 1),
            "orders_per_year": np.round(orders, 2),
            "avg_basket": np.round(basket, 2),
            "tenure_months": tenure,
            "region": rng.choice(["North", "South", "East", "West"], size=n_customers),
        }
    ).astype(str)
    if messy:
        for column in ("recency_days", "orders_per_year", "avg_basket"):
            blank = rng.random(n_customers) < 0.01
            frame.loc[blank, column] = ""
            word = rng.random(n_customers) < 0.002
            frame.loc[word, column] = "n/a"
    return frame, archetype


def blobs(
    n_per_cluster: int, centers: np.ndarray, *, spread: float = 1.0, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Well-separated Gaussian clusters as a customer table with numeric columns x0, x1, …"""
    rng = np.random.default_rng(seed)
    centers = np.asarray(centers, dtype=float)
    truth = np.repeat(np.arange(len(centers)), n_per_cluster)
    points = centers[truth] + rng.normal(scale=spread, size=(len(truth), centers.shape[1]))
    frame = pd.DataFrame(points, columns=[f"x{j}" for j in range(centers.shape[1])])
    frame.insert(0, "customer_id", [f"B{i:06d}" for i in range(len(truth))])
    return frame, truth


# Planted spend mixes: share of a customer's spend per category, one row per archetype.
CATEGORY_MIXES = (
    ("Grocery first", (0.70, 0.20, 0.10)),
    ("Fashion first", (0.10, 0.70, 0.20)),
    ("Electronics first", (0.20, 0.10, 0.70)),
)
SPEND_COLUMNS = ("grocery_spend", "fashion_spend", "electronics_spend")


def spend_mix(n_customers: int = 600, *, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers told apart by how they split their spend, not by how much they spend.

    Each customer's shares across ``SPEND_COLUMNS`` scatter around their archetype's mix, and
    their total spend is spread evenly on a log scale over a 100x range, so the volume carries
    no information about the archetype: a distance on the direction (cosine) finds the groups,
    one on the raw position mostly finds big and small spenders.
    """
    rng = np.random.default_rng(seed)
    archetype = rng.integers(0, len(CATEGORY_MIXES), size=n_customers)
    mixes = np.array([mix for _, mix in CATEGORY_MIXES])
    shares = np.vstack([rng.dirichlet(mixes[k] * 40.0) for k in archetype])
    volume = 50.0 * 10 ** rng.uniform(0.0, 2.0, n_customers)
    frame = pd.DataFrame(np.round(shares * volume[:, None], 2), columns=list(SPEND_COLUMNS))
    frame.insert(0, "customer_id", [f"S{i:06d}" for i in range(n_customers)])
    return frame, archetype
