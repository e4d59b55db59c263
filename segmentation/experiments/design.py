"""An experiment's design on an approved segment version: arms, metrics, assignment, power, balance.

:func:`design` deals every customer of the version an arm (:mod:`.assignment`), checks the arms'
balance on the covariates (:mod:`.balance`) and the primary metric's power in each segment and
overall (:mod:`.power`). :meth:`Design.to_dict` is ``design.json``, which
:func:`design_from_dict` reads back into the :class:`DesignSpec` the analysis step uses;
:func:`write_design` writes it with ``assignment.csv``, ``balance.csv`` and the SQL that repeats
the assignment in each dialect.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SegmentationError
from .arms import Arm, parse_arms
from .assignment import ASSIGNMENT_COLUMNS, assign, block_pattern, default_salt
from .balance import BALANCE_COLUMNS, balance_table
from .power import POWER_COLUMNS, Metric, check_levels, check_metric, cuped_reduction, power_table
from .sql import compile_assignment

DESIGN_FORMAT = "segplatform.design/1"


@dataclass(frozen=True)
class DesignSpec:
    arms: tuple[Arm, ...]
    # None: no metric named yet (a command-line design): assignment and balance, no power rows.
    primary: Metric | None
    guardrails: tuple[Metric, ...] = ()
    alpha: float = 0.05
    power: float = 0.8
    seed: int = 0
    salt: str = ""  # default_salt(version_hash, seed) when empty
    hypotheses: str = ""
    analysis_plan: str = ""
    covariate: str | None = None  # the pre-period covariate for CUPED
    rho: float | None = None  # its expected correlation with the metric, for the variance shown


def check_spec(spec: DesignSpec) -> None:
    """Raise a :class:`SegmentationError` for the first thing wrong with ``spec``."""
    block_pattern(spec.arms)
    check_levels(spec.alpha, spec.power)
    names = []
    if spec.primary is not None:
        check_metric(spec.primary)
        names.append(spec.primary.name)
    for guardrail in spec.guardrails:
        check_metric(guardrail, needs_mde=False)
        names.append(guardrail.name)
    if len(set(names)) != len(names):
        raise SegmentationError("each metric needs its own name (primary and guardrails)", key="metrics")
    if spec.rho is not None:
        cuped_reduction(spec.rho)
        if spec.covariate is None:
            raise SegmentationError("rho is the covariate's correlation: name the covariate too", key="rho")


def _number(value: float) -> float | None:
    """A float for JSON: NaN and infinities (an undefined or unbounded SMD) become null."""
    return float(value) if math.isfinite(value) else None


def _segment(value: object) -> int | str:
    return "all" if str(value) == "all" else int(str(value))


@dataclass(frozen=True)
class Design:
    spec: DesignSpec
    version_hash: str
    salt: str
    assignment: pd.DataFrame
    balance: pd.DataFrame
    power: pd.DataFrame

    def counts(self) -> pd.DataFrame:
        """Customers by segment (rows, ascending) and arm (columns, in the arms' order)."""
        names = [a.name for a in self.spec.arms]
        table = pd.crosstab(self.assignment["segment"], self.assignment["arm"])
        return table.reindex(columns=names, fill_value=0)

    @property
    def segments_too_small(self) -> list[int]:
        """Segments where the primary metric cannot reach the planned power for some arm."""
        rows = self.power[(self.power["segment"].astype(str) != "all") & ~self.power["readable"]]
        return sorted({int(s) for s in rows["segment"]})

    def to_dict(self) -> dict[str, Any]:
        """``design.json``."""
        spec = self.spec
        counts = self.counts()
        cuped = None
        if spec.rho is not None:
            cuped = {"rho": spec.rho, "variance_reduction": cuped_reduction(spec.rho)}
        power_rows = []
        for row in self.power.to_dict("records"):
            entry = {
                "segment": _segment(row["segment"]),
                "arm": str(row["arm"]),
                **{
                    k: int(row[k])
                    for k in ("n_control", "n_treatment", "required_control", "required_treatment")
                },
                "achieved_power": float(row["achieved_power"]),
                "readable": bool(row["readable"]),
            }
            if "achieved_power_cuped" in row:
                entry["achieved_power_cuped"] = float(row["achieved_power_cuped"])
            power_rows.append(entry)
        balance_rows = [
            {
                "segment": _segment(row["segment"]),
                "covariate": row["covariate"],
                "arm": row["arm"],
                "mean_control": _number(row["mean_control"]),
                "mean_arm": _number(row["mean_arm"]),
                "smd": _number(row["smd"]),
                "flagged": bool(row["flagged"]),
            }
            for row in self.balance.to_dict("records")
        ]
        return {
            "format": DESIGN_FORMAT,
            "version_hash": self.version_hash,
            "arms": [{"name": a.name, "ratio": a.ratio} for a in spec.arms],
            "primary": None if spec.primary is None else spec.primary.to_dict(),
            "guardrails": [g.to_dict() for g in spec.guardrails],
            "alpha": spec.alpha,
            "power": spec.power,
            "seed": spec.seed,
            "salt": self.salt,
            "hypotheses": spec.hypotheses,
            "analysis_plan": spec.analysis_plan,
            "covariate": spec.covariate,
            "cuped": cuped,
            "customers": len(self.assignment),
            "counts": [
                {"segment": int(s), "customers": int(row.sum()), "arms": {a: int(n) for a, n in row.items()}}
                for s, row in counts.iterrows()
            ],
            "power_rows": power_rows,
            "balance_rows": balance_rows,
            "flagged_balance": int(self.balance["flagged"].sum()),
            "segments_too_small": self.segments_too_small,
        }


def design(
    labels: pd.DataFrame,
    spec: DesignSpec,
    *,
    version_hash: str,
    covariates: pd.DataFrame | None = None,
) -> Design:
    """Assign, check balance and power. ``labels``: ``customer_id`` and ``segment`` per customer;
    ``covariates``: ``customer_id`` and the columns to check balance on (none: no balance rows)."""
    check_spec(spec)
    if labels.empty:
        raise SegmentationError("the version has no customers to put in an experiment")
    salt = spec.salt or default_salt(version_hash, spec.seed)
    assignment = assign(labels, spec.arms, salt=salt)
    if covariates is not None:
        balance = balance_table(assignment, covariates, arms=spec.arms)
    else:
        balance = pd.DataFrame({c: [] for c in BALANCE_COLUMNS}).astype({"flagged": bool})
    names = [a.name for a in spec.arms]
    counts = (
        pd.crosstab(assignment["segment"], assignment["arm"])
        .reindex(columns=names, fill_value=0)
        .rename_axis(columns=None)
        .reset_index()
    )
    if spec.primary is None:
        power = pd.DataFrame({c: [] for c in POWER_COLUMNS}).astype({"readable": bool})
    else:
        power = power_table(
            spec.primary, counts, alpha=spec.alpha, power=spec.power, arms=spec.arms, rho=spec.rho
        )
    return Design(spec, version_hash, salt, assignment, balance, power)


def _metric(data: dict[str, Any]) -> Metric:
    try:
        sd = data.get("sd")
        return Metric(
            name=str(data["name"]),
            kind=str(data["kind"]),
            baseline=float(data["baseline"]),
            sd=None if sd is None else float(sd),
            mde=float(data.get("mde", 0.0)),
        )
    except KeyError as error:
        raise SegmentationError(f"design.json: metric {data.get('name')!r} has no {error.args[0]}") from None
    except (AttributeError, TypeError, ValueError) as error:
        raise SegmentationError(f"design.json has a metric it cannot read: {error}") from None


def design_from_dict(data: dict[str, Any]) -> DesignSpec:
    """The :class:`DesignSpec` of a ``design.json``; the salt is the one the design used."""
    try:
        arms = data["arms"]
        text = ",".join(f"{a['name']}:{a['ratio']}" for a in arms)
        cuped = data.get("cuped")
        spec = DesignSpec(
            arms=parse_arms(text),
            primary=None if data.get("primary") is None else _metric(data["primary"]),
            guardrails=tuple(_metric(g) for g in data.get("guardrails", ())),
            alpha=float(data.get("alpha", 0.05)),
            power=float(data.get("power", 0.8)),
            seed=int(data.get("seed", 0)),
            salt=str(data.get("salt", "")),
            hypotheses=str(data.get("hypotheses", "")),
            analysis_plan=str(data.get("analysis_plan", "")),
            covariate=data.get("covariate"),
            rho=None if cuped is None else float(cuped["rho"]),
        )
    except SegmentationError:
        raise
    except KeyError as error:
        raise SegmentationError(f"design.json has no {error.args[0]!r}") from None
    except (AttributeError, TypeError, ValueError) as error:
        raise SegmentationError(f"design.json has a value it cannot read: {error}") from None
    check_spec(spec)
    return spec


def write_design(
    design: Design, out: Path, *, dialects: tuple[str, ...] = ("postgresql", "duckdb")
) -> list[Path]:
    """Write ``design.json``, ``assignment.csv``, ``balance.csv`` and ``assignment_<dialect>.sql``
    into the folder ``out`` (made if missing); returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    path = out / "design.json"
    path.write_text(json.dumps(design.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written.append(path)
    path = out / "assignment.csv"
    design.assignment[list(ASSIGNMENT_COLUMNS)].to_csv(path, index=False)
    written.append(path)
    path = out / "balance.csv"
    design.balance.replace([np.inf, -np.inf], np.nan).to_csv(path, index=False)
    written.append(path)
    for dialect in dialects:
        sql = compile_assignment(design.spec.arms, salt=design.salt, dialect=dialect)
        path = out / f"assignment_{dialect}.sql"
        path.write_text(sql + ";\n", encoding="utf-8")
        written.append(path)
    return written
