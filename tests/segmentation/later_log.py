"""A transaction log that runs past 'as_of', with planted later behaviour: for the out-of-time
tests of the engine and of the results page."""

from __future__ import annotations

import numpy as np
import pandas as pd

AS_OF = "2025-07-01"
# (planted group, customers, purchases before as_of, mean basket, chance of coming back)
PLANTED = (
    ("loyal", 110, 14, 90.0, 0.92),
    ("occasional", 80, 4, 35.0, 0.30),
    ("lapsed", 50, 2, 55.0, 0.04),
)


def planted_log(seed: int = 5) -> pd.DataFrame:
    """A log from 1 January 2025 to 30 September 2025: loyal customers keep buying after
    1 July, occasional ones sometimes, lapsed ones almost never. Baskets are log-normal (skewed
    money); some refunds fall after as_of, some customers come back only to return something,
    and a few customers appear only after as_of."""
    rng = np.random.default_rng(seed)
    start, as_of, end = (pd.Timestamp(d) for d in ("2025-01-01", AS_OF, "2025-09-30"))
    rows = []
    number = 0
    for group, customers, purchases, basket, comes_back in PLANTED:
        for _ in range(customers):
            number += 1
            cid = f"C{number:04d}"
            # lapsed customers bought early only; the others across the half year
            last = start + (as_of - start) * (0.3 if group == "lapsed" else 1.0)
            for _ in range(max(1, rng.poisson(purchases))):
                when = start + (last - start) * rng.uniform(0, 0.999)
                rows.append((cid, when, round(float(rng.lognormal(np.log(basket), 0.6)), 2), group))
            if rng.uniform() < comes_back:
                for _ in range(1 + rng.poisson(purchases / 3)):
                    when = as_of + (end - as_of) * rng.uniform(0, 0.999)
                    rows.append((cid, when, round(float(rng.lognormal(np.log(basket), 0.6)), 2), group))
                if rng.uniform() < 0.2:  # a refund in the window is not spend
                    rows.append((cid, as_of + pd.Timedelta(days=3), -round(basket / 2, 2), group))
            elif rng.uniform() < 0.15:  # came back only to return something: did not buy again
                rows.append((cid, as_of + pd.Timedelta(days=10), -round(basket, 2), group))
    for new in range(6):
        rows.append((f"N{new:03d}", as_of + pd.Timedelta(days=20 + new), 40.0, "new"))
    rows.append(("C0001", end, 12.5, "loyal"))  # the log's last event: 30 September
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "planted"])
    return log.sort_values("timestamp", ignore_index=True)
