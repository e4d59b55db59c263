"""Every bound on the number of segments, checked in one place with one wording each.

The spec's own bounds (``k_min``, ``k_max``) are checked when a spec is read; the bounds that
depend on the data (enough customers, enough distinct customers) when the data is known, by
the pipeline and by any form or API that knows the row count before a run. Each message names
the problem and the fix, and the error's ``key`` names the spec key the fix belongs to.
"""

from __future__ import annotations

import math

from .errors import SegmentationError, SpecError

MIN_CLUSTERS = 2  # one segment is no segmentation
# Beyond 30 segments a business reader can no longer tell them apart, and the sweep's cost
# grows with every k tried.
MAX_CLUSTERS = 30
# A segment is worth describing and acting on only with enough customers in it: at least
# MIN_SEGMENT_CUSTOMERS, and at least MIN_SEGMENT_SHARE of a large table.
MIN_SEGMENT_CUSTOMERS = 10
MIN_SEGMENT_SHARE = 0.01


def min_segment_size(customers: int) -> int:
    """The fewest customers a segment should hold among ``customers``: 10, or 1% of a large table."""
    return max(MIN_SEGMENT_CUSTOMERS, math.ceil(MIN_SEGMENT_SHARE * customers))


def k_cap(customers: int) -> int:
    """The most segments ``customers`` support: sqrt(n / 2) (the rule of thumb for k), no more than
    fit at :func:`min_segment_size` each, and within ``MIN_CLUSTERS..MAX_CLUSTERS``.

    60 customers support 5 segments, 500 support 15, 1,800 or more the engine's 30.
    """
    by_size = customers // min_segment_size(customers)
    return max(MIN_CLUSTERS, min(MAX_CLUSTERS, math.isqrt(customers // 2), by_size))


def capped_k_max(*, customers: int, k_min: int, k_max: int) -> int:
    """The spec's 'k_max' lowered to :func:`k_cap`, never below 'k_min' (the other bounds refuse
    a 'k_min' the customers cannot support)."""
    return min(k_max, max(k_cap(customers), k_min))


def k_cap_note(*, customers: int, k_min: int, k_max: int) -> str | None:
    """The sentence a run records when the customers lower the spec's 'k_max', else None."""
    cap = capped_k_max(customers=customers, k_min=k_min, k_max=k_max)
    if k_max <= cap:
        return None
    return (
        f"'k_max' {k_max} was lowered to {cap}: {customers:,} customers support at most {cap} "
        f"segments of at least {min_segment_size(customers)} customers each; upload more customers "
        "to try more segments"
    )


def small_segment_wording(customers: int) -> str:
    """How the selection names its penalty for a segment below :func:`min_segment_size`."""
    return f"a segment under {min_segment_size(customers)} customers"


def check_bounds(
    *,
    k_min: int,
    k_max: int,
    rows: int | None = None,
    customers: int | None = None,
    distinct: int | None = None,
) -> None:
    """Refuse a k range the engine cannot run, or one the data cannot support.

    ``rows``: how many rows an uploaded table has, known before a run. A run cannot have more
    customers than rows, so the customers' bound applies to the rows already; it is the only
    bound a form can check (a log's rows are events, and cleaning may drop rows).
    ``customers``: how many customers will be segmented; every k needs at least one customer
    more than segments (the silhouette compares each customer with another segment).
    ``distinct``: how many distinct customers (rows of different values) there are; ``k_min``
    segments need ``k_min + 1`` of them.

    Raises :class:`SpecError` for a range that is wrong whatever the data, and
    :class:`SegmentationError` for one too large for this data.
    """
    if k_min < MIN_CLUSTERS:
        raise SpecError(
            f"'k_min' is {k_min} but a segmentation needs at least {MIN_CLUSTERS} segments: "
            f"set 'k_min' to {MIN_CLUSTERS} or more",
            key="k_min",
        )
    if k_max < k_min:
        raise SpecError(
            f"'k_max' ({k_max}) must not be smaller than 'k_min' ({k_min}): "
            f"raise 'k_max' to at least {k_min} or lower 'k_min'",
            key="k_max",
        )
    if k_max > MAX_CLUSTERS:
        raise SpecError(
            f"'k_max' is {k_max} but the engine tries at most {MAX_CLUSTERS} segments: "
            f"lower 'k_max' to {MAX_CLUSTERS} or less",
            key="k_max",
        )
    if rows is not None and rows < k_max + 1:
        if rows - 1 >= k_min:
            fix = f"Lower 'k_max' to at most {rows - 1} or upload a table with more rows"
            raise SegmentationError(
                f"The dataset has {rows} rows: at most {rows - 1} segments. {fix}.", key="k_max"
            )
        raise SegmentationError(
            f"The dataset has {rows} rows: too few for the {k_min} segments 'k_min' asks for. "
            f"Upload a table of at least {k_min + 1} rows.",
            key="k_max",
        )
    if customers is not None and customers < k_max + 1:
        if customers - 1 >= k_min:
            fix = f"lower 'k_max' to at most {customers - 1} or upload more customers"
        else:
            fix = f"upload at least {k_min + 1} customers"
        raise SegmentationError(
            f"the table has {customers} customer(s) but the spec asks for up to {k_max} segments: {fix}",
            key="k_max",
        )
    if distinct is not None and distinct < k_min + 1:
        fix = "add features that tell the customers apart"
        if distinct - 1 >= MIN_CLUSTERS:
            fix = f"lower 'k_min' to at most {distinct - 1} or {fix}"
        raise SegmentationError(
            f"the customers have only {distinct} distinct combination(s) of values, too few to "
            f"form {k_min} segments: {fix}",
            key="k_min",
        )
