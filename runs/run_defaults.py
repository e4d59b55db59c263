"""Where the run form starts: the initial value of each field, read from the upload's profile."""

from __future__ import annotations

from typing import Any

from segmentation.data.profile import TableProfile

# A transaction log's single-column keys; the profile suggests each by the same name.
SINGLE_COLUMN_KEYS = (
    "timestamp_column",
    "amount_column",
    "quantity_column",
    "unit_price_column",
    "category_column",
)


def profile_initials(profile: TableProfile, *, columns: list[str], numeric: set[str]) -> dict[str, Any]:
    """The form's initial values for the columns it offers (``columns``; ``numeric``: those
    that read as numbers). A log starts as one, with the columns its profile suggests; a customer
    table with its numbers and categories ticked, and the columns that look like protected
    attributes or outcomes audited rather than clustered on. Personal data is never pre-ticked:
    its privacy review decides what stays."""
    offered = set(columns)
    usable = {c.name for c in profile.columns if c.pii is None} & offered
    features = set(profile.with_role("feature", "amount", "quantity"))
    initials: dict[str, Any] = {
        "numeric_columns": [c for c in columns if c in numeric and c in features],
        "categorical_columns": [c for c in profile.with_role("categorical") if c in usable],
        "protected_columns": [c for c in profile.with_role("protected-candidate") if c in usable],
        "outcome_columns": [c for c in profile.with_role("outcome-candidate") if c in usable],
    }
    if profile.is_events:
        initials["input_kind"] = "transactions"
        for key in SINGLE_COLUMN_KEYS:
            suggested = getattr(profile, key)
            if suggested in offered:
                initials[key] = suggested
    return initials
