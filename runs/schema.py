"""What an uploaded table looks like: the kind of each column and a guess at the id column."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from segmentation.model.artefact import coerce_numeric

# A column counts as numeric when nearly all of its filled cells read as numbers: a few stray
# words ("n/a", "unknown") are missing values, not a reason to treat the column as text.
NUMERIC_SHARE = 0.9
ID_NAME = re.compile(r"^(customer|client|cust|account|member|user)?[ _-]?(id|no|number|key|ref)$", re.I)


def infer_schema(frame: pd.DataFrame) -> list[dict[str, Any]]:
    schema = []
    for column in frame.columns:
        cells = frame[column]
        filled = int(cells.notna().sum())
        numbers = int(coerce_numeric(cells).notna().sum())
        kind = "numeric" if filled and numbers >= NUMERIC_SHARE * filled else "text"
        schema.append({"name": str(column), "kind": kind, "missing": int(len(cells) - filled)})
    return schema


def guess_id_column(frame: pd.DataFrame) -> str:
    for column in frame.columns:
        if ID_NAME.match(str(column).strip()):
            return str(column)
    return str(frame.columns[0])
