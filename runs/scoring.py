"""Scoring records with a frozen segment version: the artefact behind the scoring API.

The model is loaded from the version's stored JSON (never pickle), so the API answers with exactly
the arithmetic of ``predict`` and of the compiled SQL scorers.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from audit.services import audit_record
from governance.dp_policy import dp_policy_applies
from governance.models import SegmentVersion
from governance.selectors import version_lifetime_values, version_model
from segplatform.errors import ApplicationError

# At most this many problems are listed in one refusal: enough to fix a client's mapping.
MAX_LISTED_PROBLEMS = 20


class ScoringInputError(ApplicationError):
    """Records that cannot be scored, with the problems per field (``records[3].avg_basket``)."""

    def __init__(self, message: str, *, fields: dict[str, list[str]]) -> None:
        super().__init__(message, field="records")
        self.fields = fields


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check(records: list[Any], features: list[str], categorical: set[str]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for i, record in enumerate(records):
        if len(problems) >= MAX_LISTED_PROBLEMS:
            break
        if not isinstance(record, dict):
            problems[f"records[{i}]"] = ["must be an object of field names and values"]
            continue
        for name in features:
            where = f"records[{i}].{name}"
            if name not in record:
                problems[where] = [f"missing: every record needs '{name}' (null if unknown)"]
            elif record[name] is None:
                continue  # missing value: filled exactly as in training and in the SQL scorers
            elif name in categorical:
                if not isinstance(record[name], str):
                    problems[where] = [f"must be text or null, not {type(record[name]).__name__}"]
            elif not _is_number(record[name]):
                problems[where] = [f"must be a number or null, not {json_type(record[name])}"]
    return problems


def json_type(value: Any) -> str:
    names = {str: "text", bool: "true/false", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def version_score(
    *,
    version: SegmentVersion,
    records: list[Any],
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
) -> list[dict[str, Any]]:
    """Segment, segment name and (where the model has them) probabilities for each record.

    Refuses, naming every problem it finds: an empty batch, more records than the batch limit,
    a record without one of the model's fields, or a value of the wrong type. Null is a missing
    value and is imputed as in training. Unknown fields are ignored.
    """
    limit = settings.SCORING_BATCH_LIMIT
    if not records:
        raise ScoringInputError("send at least one record", fields={"records": ["is empty"]})
    if len(records) > limit:
        raise ScoringInputError(
            f"{len(records)} records is more than the batch limit of {limit}: split them into batches",
            fields={"records": [f"at most {limit} records a request"]},
        )
    model = version_model(version)
    features = list(model.features)
    preprocessor = getattr(model, "preprocessor", None)
    categorical = {c.name for c in preprocessor.categorical} if preprocessor is not None else set()
    problems = _check(records, features, categorical)
    if problems:
        raise ScoringInputError(
            f"{len(problems)} field(s) cannot be scored: see fields; the model reads {', '.join(features)}",
            fields=problems,
        )
    frame = pd.DataFrame.from_records(
        [{name: r[name] for name in features} for r in records], columns=features
    )
    labels = model.predict(frame)
    predict_proba = getattr(model, "predict_proba", None)
    probabilities = predict_proba(frame) if callable(predict_proba) else None
    names = model.names_of(labels) if hasattr(model, "names_of") else [model.segment_names[i] for i in labels]
    id_column = getattr(model, "id_column", None)
    # CLV needs a customer's purchase history, which the model's features do not carry: it is
    # served for the customers the version valued, by id (never under a DP policy, whose
    # per-customer files stay on the platform).
    values = None if dp_policy_applies(version) else version_lifetime_values(version)
    results = []
    for i, label in enumerate(labels):
        row: dict[str, Any] = {"segment": int(label), "segment_name": names[i]}
        if id_column and id_column in records[i]:
            row["customer_id"] = records[i][id_column]
        if probabilities is not None:
            row["probabilities"] = [round(float(p), 6) for p in probabilities[i]]
        if values is not None:
            row.update(lifetime_value(values, records[i].get(id_column) if id_column else None))
        results.append(row)
    audit_record(
        action="version.score",
        actor=user,
        project=version.project,
        obj=version,
        request=request,
        details={"version": version.label, "records": len(records)},
    )
    return results


def lifetime_value(values: dict[str, dict[str, float | None]], customer: Any) -> dict[str, Any]:
    """``p_alive``, ``expected_purchases_<H>`` and ``clv_<H>`` of a customer the version valued;
    nulls and the reason for anyone else."""
    found = values.get(str(customer)) if customer is not None else None
    if found is not None:
        return {name: None if v is None else round(float(v), 6) for name, v in found.items()}
    names = next(iter(values.values()), {})
    reason = (
        "send the customer's id to get a lifetime value"
        if customer is None
        else "not a customer this version valued: lifetime value comes from the purchase history it was fitted on"
    )
    return {**dict.fromkeys(names), "clv_note": reason}
