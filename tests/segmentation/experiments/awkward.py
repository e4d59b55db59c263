"""Customers whose ids sort differently by locale, by case, by UTF-16 and by bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd

PIECES = (
    "a",
    "A",
    "Z",
    "z",
    "é",
    "É",
    "ß",
    "日本",
    "😀",
    "ﬁ",
    " ",
    "  x",
    "-",
    "_",
    "0",
    "9",
    "10",
    "ö",
    "'",
    '"',
)


def awkward_labels(rows: int = 2_000, seed: int = 3) -> pd.DataFrame:
    """``rows`` unique ids made of mixed-case letters, accents, CJK, an emoji (outside the BMP),
    spaces, digits and quotes, in segments -1..4."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < rows:
        text = "".join(rng.choice(PIECES, size=rng.integers(1, 5)))
        if rng.random() < 0.3:
            text += str(rng.integers(0, 1_000))
        if text not in seen:
            seen.add(text)
            ids.append(text)
    return pd.DataFrame({"customer_id": ids, "segment": rng.integers(-1, 5, rows)})
