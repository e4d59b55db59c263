"""A customer table with personal data in it, as clients actually send."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.synthetic.customers import customer_table

FIRST = ["Anna", "John", "Sipho", "Mary", "Thabo", "Emma", "Peter", "Lerato"]
LAST = ["Smith", "Nkosi", "Jones", "van Wyk", "Dlamini", "Lee"]


def pii_table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame, _ = customer_table(n, seed=seed, messy=False)
    frame = frame.drop(columns=["customer_id"])
    frame.insert(0, "email", [f"customer{i}@example.com" for i in range(n)])
    frame["full_name"] = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(n)]
    frame["phone"] = [f"+27 82 {rng.integers(100, 999)} {rng.integers(1000, 9999)}" for _ in range(n)]
    frame["sku"] = ["4111111111111111"] * n
    frame["gender"] = rng.choice(["F", "M"], n)
    frame["age"] = rng.integers(20, 70, n).astype(str)
    return frame


def notes_and_birth_table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A customer table whose call-centre ``notes`` hold a phone, an e-mail or an address in one
    row in four, and whose ``birth`` column is written DD/MM/YYYY."""
    rng = np.random.default_rng(seed)
    frame, _ = customer_table(n, seed=seed, messy=False)
    ordinary = [
        "Prefers delivery after 5pm",
        "Asked about the 20% discount on order 4471",
        "Happy with the service",
    ]
    personal = [
        "Call back on 020 7946 0958",
        "New address 14 Elm Grove Road",
        "Mail jo.b@example.com instead",
    ]
    frame["notes"] = [rng.choice(personal if i % 4 == 0 else ordinary) for i in range(n)]
    born = pd.Timestamp("1945-01-01") + pd.to_timedelta(rng.integers(0, 55 * 365, n), unit="D")
    frame["birth"] = born.strftime("%d/%m/%Y")
    return frame


def as_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def segment_folder(folder: Path, out: str = "out", source: str = "customers.csv") -> Path:
    """Run ``manage.py segment`` on ``folder``'s ``source`` and spec.json; return the output folder."""
    from django.core.management import call_command

    target = folder / out
    call_command(
        "segment",
        str(folder / source),
        "--spec",
        str(folder / "spec.json"),
        "--out",
        str(target),
        stdout=StringIO(),
    )
    return target
