"""The bias audit of a version: computed from the labels and the dataset, stored with the version."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from segmentation import read_csv_bytes
from segmentation.protection.fairness import bias_audit

from .models import BiasAudit


def bias_deliverables(*, version: Any, labels: pd.DataFrame) -> dict[str, bytes]:
    """``bias.csv`` and ``bias.json`` for a version whose spec names protected columns, else nothing.

    The protected columns are read from the dataset by customer id, never from the model's
    features, so they cannot have influenced the clustering.
    """
    protected = list(version.spec.get("protected_columns") or [])
    if not protected or version.run is None:
        return {}
    dataset = version.run.dataset
    with dataset.file.open("rb") as handle:
        table = read_csv_bytes(handle.read(), name=f"'{dataset.name}'")
    features = [c for c in version.spec.get("numeric_columns", []) if c in table.columns]
    table = table.rename(columns={dataset.id_column: "customer_id"})
    joined = (
        labels[["customer_id", "segment"]]
        .astype({"customer_id": str})
        .merge(
            table[["customer_id", *protected, *features]].astype({"customer_id": str}),
            on="customer_id",
            how="left",
        )
    )
    rows, findings = bias_audit(
        joined["segment"],
        joined[protected],
        joined[features],
        random_state=int(version.spec.get("random_state", 0)),
    )
    BiasAudit.objects.create(
        version=version,
        protected_columns=protected,
        rows=json.loads(rows.to_json(orient="records")),
        findings=findings,
    )
    csv = rows.to_csv(index=False, lineterminator="\n").encode()
    payload = json.dumps(findings, indent=2, sort_keys=True, default=str) + "\n"
    return {"bias.csv": csv, "bias.json": payload.encode()}
