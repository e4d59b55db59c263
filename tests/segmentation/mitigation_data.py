"""A customer table whose tenure encodes gender while spend and visits plant segments: for the
mitigation tests of the engine and of the portal."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPEC = {
    "id_column": "customer_id",
    "numeric_columns": ["spend", "visits", "tenure"],
    "k_min": 2,
    "k_max": 6,
    "protected_columns": ["gender"],
    "transforms": {"spend": "log1p"},
    "algorithms": ["kmeans"],
    "stability_resamples": 5,
}


def customers(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    gender = np.where(rng.random(n) < 0.5, "F", "M")
    archetype = rng.integers(0, 3, n)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "spend": np.exp(np.array([3.0, 4.5, 6.0])[archetype] + rng.normal(0, 0.3, n)).round(2),
            "visits": rng.poisson(np.array([2, 8, 20])[archetype]),
            "tenure": (np.where(gender == "F", 48, 12) + rng.normal(0, 4, n)).round(1),
            "region": rng.choice(["north", "south", "east"], n),
            "gender": gender,
        }
    )
