"""Current data for the monitoring tests: a finished run's own customers, a little later."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.projects.helpers import NUMERIC


def current_upload(finished_run, shift: float = 0.0, name: str = "customers.csv"):  # type: ignore[no-untyped-def]
    """The run's own customers now: a little noise everywhere, ``shift`` added to avg_basket."""
    frame = finished_run.dataset.read_table()
    rng = np.random.default_rng(0)
    for column in NUMERIC:
        values = pd.to_numeric(frame[column], errors="coerce")
        frame[column] = (values * (1 + rng.normal(0, 0.001, len(frame)))).round(4)
    frame["avg_basket"] = pd.to_numeric(frame["avg_basket"]) + shift
    return SimpleUploadedFile(name, frame.to_csv(index=False).encode())
