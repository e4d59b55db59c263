"""A deployed segmentation of planted customers, and current tables drawn from the same population
(no drift) or with drift of a known size."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from segmentation import SegmentationSpec, segment
from segmentation.model.artefact import SegmentationModel

FEATURES = ["spend", "visits", "tenure", "basket"]
CENTRES = np.array([[2.0, 3.0, 1.0, 4.0], [5.0, 1.0, 4.0, 2.0], [1.0, 5.0, 5.0, 1.0]])
SHARES = (0.5, 0.3, 0.2)


def population(n: int, seed: int, *, shares: tuple[float, ...] = SHARES, start: int = 0) -> pd.DataFrame:
    """Customers from three planted groups with unequal shares; ids ``start`` onwards."""
    rng = np.random.default_rng(seed)
    group = rng.choice(len(shares), size=n, p=shares)
    values = CENTRES[group] + rng.normal(0, 0.6, (n, len(FEATURES)))
    frame = pd.DataFrame(values, columns=FEATURES)
    frame.insert(0, "customer_id", [f"C{i:07d}" for i in range(start, start + n)])
    frame["planted"] = group
    return frame


@cache
def deployed(n: int = 600) -> tuple[SegmentationModel, pd.DataFrame]:
    reference = population(n, seed=0)
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "numeric_columns": FEATURES,
            "k_min": 3,
            "k_max": 3,
            "algorithms": ["kmeans"],
            "stability_resamples": 0,
        }
    )
    return segment(reference, spec).model, reference
