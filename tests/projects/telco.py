"""A Telco-like customer table (after IBM's well-known churn sample), generated from a seed.

Tenure and skewed monthly charges to cluster on, contract and payment categories, a 0/1
``SeniorCitizen`` flag and ``gender`` to audit, and a Yes/No ``Churn`` tied to the contract
(month-to-month customers leave most), so outcomes differ between segments for a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CONTRACTS = ("Month-to-month", "One year", "Two year")
PAYMENTS = ("Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)")
CHURN_BY_CONTRACT = {"Month-to-month": 0.43, "One year": 0.11, "Two year": 0.03}
TELCO_NUMERIC = ["tenure", "MonthlyCharges"]
TELCO_CATEGORICAL = ["Contract", "PaymentMethod"]
TELCO_PROTECTED = ["SeniorCitizen", "gender"]
TELCO_OUTCOME = ["Churn"]


def telco_table(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=n, p=[0.55, 0.21, 0.24])
    longer = np.select([contract == "One year", contract == "Two year"], [1.0, 2.0], 0.0)
    tenure = np.clip(rng.gamma(1.2 + 2.2 * longer, 9.0, size=n).round(), 0, 72).astype(int)
    senior = (rng.random(n) < 0.16).astype(int)
    # Right-skewed charges, higher for seniors (fibre and add-ons), so the audit has a gap to find.
    charges = 18 + rng.lognormal(3.4 + 0.35 * senior, 0.45, size=n)
    payment = np.where(
        (contract == "Month-to-month") & (rng.random(n) < 0.55),
        "Electronic check",
        rng.choice(PAYMENTS, size=n),
    )
    churned = rng.random(n) < np.vectorize(CHURN_BY_CONTRACT.get)(contract)
    return pd.DataFrame(
        {
            "customer_id": [f"{7000 + i:04d}-TEL" for i in range(n)],
            "gender": rng.choice(["Female", "Male"], size=n),
            "SeniorCitizen": senior,
            "tenure": tenure,
            "Contract": contract,
            "PaymentMethod": payment,
            "MonthlyCharges": charges.round(2),
            "Churn": np.where(churned, "Yes", "No"),
        }
    )


def telco_csv(n: int = 1500, seed: int = 3) -> tuple[bytes, pd.DataFrame]:
    frame = telco_table(n, seed)
    return frame.to_csv(index=False).encode(), frame
