"""The stratified sample of customers a source run fits on.

Strata: quintiles of ``frequency`` × quintiles of ``monetary_total``, computed by the engine
with ``NTILE(5)`` over the whole customer table (ties broken by the id), so at most 25 strata;
a heavy buyer is as likely to be in the sample as in the customer base, and the rare strata
(very frequent, low spend) are not left out by chance.

Allocation: a sample of ``min(sample_size, customers)`` customers; every non-empty stratum gets
``min(MIN_PER_STRATUM, its size)`` first, and the rest of the sample is shared in proportion to
what each stratum has beyond that (largest remainders), so the allocation adds up exactly.

Within a stratum the customers kept are those with the smallest hash of their id keyed by the
spec's ``random_state``: the same log and seed give the same sample in any engine, whatever
order the rows arrive in, and a batch at a time needs no more memory than the sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import SegmentationError

BINS = 5
STRATUM = "_seg_stratum"
MIN_PER_STRATUM = 5
SMALLEST_SAMPLE = MIN_PER_STRATUM * BINS * BINS
_HASH = "_seg_hash"


def stratified_sql(features_sql: str, id_column: str = "customer_id") -> str:
    """The feature table with each customer's stratum (0..24) as ``_seg_stratum``."""
    return (
        f"SELECT _seg_f.*, (NTILE({BINS}) OVER (ORDER BY frequency, {id_column}) - 1) * {BINS}"
        f" + (NTILE({BINS}) OVER (ORDER BY monetary_total, {id_column}) - 1) AS {STRATUM}"
        f" FROM ({features_sql}) AS _seg_f"
    )


def allocate(counts: Mapping[int, int], size: int) -> dict[int, int]:
    """How many customers to keep from each stratum (``counts``: stratum -> customers)."""
    counts = {s: int(n) for s, n in counts.items() if n > 0}
    total = sum(counts.values())
    if total <= size:
        return dict(counts)
    if size < SMALLEST_SAMPLE:
        raise SegmentationError(
            f"a sample size of {size} is too small: the sample keeps at least {MIN_PER_STRATUM} "
            f"customers in each of up to {BINS * BINS} strata, so use {SMALLEST_SAMPLE} or more"
        )
    floor = {s: min(MIN_PER_STRATUM, n) for s, n in counts.items()}
    rest = size - sum(floor.values())
    beyond = {s: counts[s] - floor[s] for s in counts}
    spare = sum(beyond.values())
    quotas = {s: rest * b / spare for s, b in beyond.items()}
    share = {s: int(np.floor(q)) for s, q in quotas.items()}
    # Largest remainders, ties by stratum, until the allocation adds up to the size exactly.
    order = sorted(counts, key=lambda s: (-(quotas[s] - share[s]), s))
    for s in order[: rest - sum(share.values())]:
        share[s] += 1
    return {s: floor[s] + share[s] for s in counts}


def id_hashes(ids: pd.Series, random_state: int) -> np.ndarray:
    """A 64-bit hash of each id (as text) keyed by the seed: the same in every run and engine."""
    key = f"{random_state:016d}"[-16:]
    return pd.util.hash_pandas_object(ids.astype(str), index=False, hash_key=key).to_numpy()


def keep_sample(
    batches: Iterable[pd.DataFrame], allocation: Mapping[int, int], random_state: int
) -> tuple[pd.DataFrame, int]:
    """The allocated customers of each stratum from ``batches`` (the stratified feature table,
    streamed), and how many rows were read."""
    kept: pd.DataFrame | None = None
    rows = 0
    limit = pd.Series(allocation, dtype="int64")
    for batch in batches:
        rows += len(batch)
        batch = batch.assign(**{_HASH: id_hashes(batch["customer_id"], random_state)})
        pool = batch if kept is None else pd.concat([kept, batch], ignore_index=True)
        pool = pool.sort_values([STRATUM, _HASH, "customer_id"], kind="stable", ignore_index=True)
        rank = pool.groupby(STRATUM).cumcount().to_numpy()
        wanted = pool[STRATUM].map(limit).fillna(0).to_numpy()
        kept = pool[rank < wanted].reset_index(drop=True)
    if kept is None:
        raise SegmentationError("the source gave no customer: check the log has events before 'as_of'")
    return kept.drop(columns=[_HASH]), rows
