"""A transaction log drawn from the BG/NBD and Gamma-Gamma models themselves, with known parameters.

Each customer joins on a day of the first ``join_weeks`` weeks, buys at a Poisson rate λ ~
Gamma(r, α) a week while alive, drops out after each repeat purchase with probability
p ~ Beta(a, b), and spends Gamma(p_s, ν) a purchase day with ν ~ Gamma(q, γ). One purchase a
day at most (the models count purchase days). Refunds of a few purchases are added as negative
amounts, which the models must ignore.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2024-01-01")
TRUTH = {"r": 0.6, "alpha": 4.0, "a": 0.8, "b": 2.5}
SPEND_TRUTH = {"p": 6.0, "q": 4.0, "v": 15.0}


def simulated_log(
    customers: int = 3_000,
    *,
    weeks: int = 104,
    join_weeks: int = 52,
    seed: int = 0,
    pooled_spend: bool = False,
) -> pd.DataFrame:
    """``customer_id``, ``timestamp``, ``amount`` over ``weeks`` weeks from 2024-01-01.

    ``pooled_spend``: every customer spends around the same mean (no heterogeneity for the
    Gamma-Gamma model to find)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], customers)
    drop = rng.beta(TRUTH["a"], TRUTH["b"], customers)
    nu = (
        np.full(customers, SPEND_TRUTH["q"] / SPEND_TRUTH["v"])
        if pooled_spend
        else rng.gamma(SPEND_TRUTH["q"], 1 / SPEND_TRUTH["v"], customers)
    )
    rows: list[tuple[str, pd.Timestamp, float]] = []
    for c in range(customers):
        day = int(rng.integers(0, join_weeks * 7))
        days = [day]
        t = day / 7
        while True:
            t += rng.exponential(1 / rate[c]) if rate[c] > 0 else np.inf
            if t >= weeks:
                break
            next_day = int(t * 7)
            if next_day == days[-1]:
                continue
            days.append(next_day)
            if rng.random() < drop[c]:
                break
        for d in days:
            stamp = START + pd.Timedelta(days=d, hours=int(rng.integers(8, 20)))
            rows.append((f"K{c:05d}", stamp, round(float(rng.gamma(SPEND_TRUTH["p"], 1 / nu[c])), 2)))
    log = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    refunds = log.sample(frac=0.02, random_state=seed).copy()
    refunds["amount"] = -refunds["amount"]
    refunds["timestamp"] += pd.Timedelta(days=2)
    return pd.concat([log, refunds], ignore_index=True).sort_values("timestamp", ignore_index=True)
