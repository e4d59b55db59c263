"""Shared data for the engine's tests (and its benchmarks): generated tables, no files."""

from __future__ import annotations

import numpy as np
import pandas as pd

EDUCATION = {
    "Preschool": "Primary",
    "1st-4th": "Primary",
    "5th-6th": "Primary",
    "7th-8th": "Secondary",
    "9th": "Secondary",
    "10th": "Secondary",
    "11th": "Secondary",
    "12th": "Secondary",
    "HS-grad": "Secondary",
    "Some-college": "Undergraduate",
    "Assoc-voc": "Undergraduate",
    "Assoc-acdm": "Undergraduate",
    "Bachelors": "Undergraduate",
    "Masters": "Graduate",
    "Prof-school": "Graduate",
    "Doctorate": "Graduate",
}
MARITAL = {
    "Married-civ-spouse": "Married",
    "Married-spouse-absent": "Married",
    "Married-AF-spouse": "Married",
    "Never-married": "Single",
    "Divorced": "Was married",
    "Separated": "Was married",
    "Widowed": "Was married",
}
ADULT_QUASI_IDENTIFIERS = ["age", "sex", "race", "education", "zip", "marital"]


def adult_like(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A table shaped like UCI adult: six quasi-identifiers, skewed categories, and two sensitive
    columns (occupation as text, hours per week as numbers), every cell text as a CSV gives it."""
    rng = np.random.default_rng(seed)
    education = list(EDUCATION)
    education_p = rng.dirichlet(np.ones(len(education)) * 0.7)
    marital = list(MARITAL)
    zips = [
        f"{region}{rng.integers(0, 1000):03d}{rng.integers(0, 10)}"
        for region in range(1, 10)
        for _ in range(6)
    ]
    frame = pd.DataFrame(
        {
            "age": np.clip(rng.gamma(4.0, 9.5, n) + 17, 17, 90).astype(int),
            "sex": rng.choice(["Male", "Female"], n, p=[0.67, 0.33]),
            "race": rng.choice(
                ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"],
                n,
                p=[0.85, 0.096, 0.031, 0.01, 0.013],
            ),
            "education": rng.choice(education, n, p=education_p),
            "zip": rng.choice(zips, n),
            "marital": rng.choice(marital, n, p=[0.46, 0.013, 0.001, 0.33, 0.136, 0.031, 0.029]),
            "occupation": rng.choice(
                ["Tech", "Craft", "Sales", "Admin", "Service", "Exec", "Transport", "Farming"], n
            ),
            "hours": rng.choice([20, 30, 40, 45, 50, 60], n, p=[0.08, 0.1, 0.5, 0.12, 0.14, 0.06]),
        }
    )
    return frame.astype(str)


def arx_hierarchy(mapping: dict[str, str]) -> str:
    """An ARX hierarchy file's text: ``value;group;*`` for each value."""
    return "".join(f"{value};{group};*\n" for value, group in mapping.items())
