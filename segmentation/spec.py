"""The declarative segmentation spec: what to cluster, and how.

A spec is a flat JSON object. Unknown keys and values of the wrong type are refused with a
message that names the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import SpecError

MAX_CLUSTERS = 30


@dataclass(frozen=True)
class SegmentationSpec:
    """A validated spec.

    Keys
    ----
    id_column : the column that identifies a customer (required).
    numeric_columns : the numeric columns to cluster on (required, at least one).
    k_min, k_max : the range of segment counts to try (defaults 2 and 8).
    random_state : seed for every random step (default 0), so a run is reproducible.
    protected_columns : columns holding protected attributes (default none); never clustering
        features, they feed the bias audit only.
    """

    id_column: str
    numeric_columns: tuple[str, ...]
    k_min: int = 2
    k_max: int = 8
    random_state: int = 0
    protected_columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["numeric_columns"] = list(self.numeric_columns)
        # Left out when empty, so a spec without it hashes exactly as before the key existed.
        if self.protected_columns:
            data["protected_columns"] = list(self.protected_columns)
        else:
            del data["protected_columns"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentationSpec:
        """Validate ``data`` and build a spec, or raise :class:`SpecError` naming the key."""
        if not isinstance(data, Mapping):
            raise SpecError("the spec must be a JSON object of keys and values")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(
                f"unknown spec key(s): {', '.join(unknown)}; accepted keys are {', '.join(sorted(known))}"
            )
        for required in ("id_column", "numeric_columns"):
            if required not in data:
                raise SpecError(f"the spec needs '{required}'")

        id_column = _string(data, "id_column")
        numeric = data["numeric_columns"]
        if not isinstance(numeric, list) or not all(isinstance(c, str) and c for c in numeric):
            raise SpecError("'numeric_columns' must be a list of column names")
        if not numeric:
            raise SpecError("'numeric_columns' must name at least one column")
        if len(set(numeric)) != len(numeric):
            raise SpecError("'numeric_columns' names a column twice")
        if id_column in numeric:
            raise SpecError(f"'{id_column}' is the id column and cannot also be a numeric column")

        k_min = _integer(data, "k_min", cls.k_min)
        k_max = _integer(data, "k_max", cls.k_max)
        if k_min < 2:
            raise SpecError("'k_min' must be at least 2")
        if k_max < k_min:
            raise SpecError(f"'k_max' ({k_max}) must not be smaller than 'k_min' ({k_min})")
        if k_max > MAX_CLUSTERS:
            raise SpecError(f"'k_max' must be at most {MAX_CLUSTERS}")
        random_state = _integer(data, "random_state", cls.random_state)
        if not 0 <= random_state < 2**32:
            raise SpecError("'random_state' must be between 0 and 4294967295")
        protected = data.get("protected_columns", [])
        if not isinstance(protected, list) or not all(isinstance(c, str) and c for c in protected):
            raise SpecError("'protected_columns' must be a list of column names")
        if len(set(protected)) != len(protected):
            raise SpecError("'protected_columns' names a column twice")
        clash = [c for c in protected if c in numeric or c == id_column]
        if clash:
            raise SpecError(
                f"{', '.join(clash)} cannot be both protected and a clustering feature or the id: "
                "protected attributes are kept out of clustering and only audited"
            )
        return cls(
            id_column=id_column,
            numeric_columns=tuple(numeric),
            k_min=k_min,
            k_max=k_max,
            random_state=random_state,
            protected_columns=tuple(protected),
        )


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"'{key}' must be a non-empty text value")
    return value


def _integer(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    # JSON has no separate integer type and bool is an int subclass in Python: refuse both
    # 3.5 and true rather than truncating them.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"'{key}' must be a whole number, got {value!r}")
    return value
