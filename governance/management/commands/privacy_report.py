"""``manage.py privacy_report INPUT --quasi-identifiers a,b,c --sensitive s [--json OUT] [--k K]``

Measures re-identification risk of a customer table (k-anonymity with the class-size
distribution, distinct and entropy l-diversity, t-closeness) and, with ``--k``, the least-loss
generalisation that reaches that k.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentation import SegmentationError, read_table
from segmentation.protection.generalise import generalise
from segmentation.protection.risk import privacy_report, suggest_quasi_identifiers


def _names(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def numeric_where_possible(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Columns that are wholly numbers become numeric, so t-closeness uses the ordered distance."""
    frame = frame.copy()
    for column in columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        if numbers.notna().all():
            frame[column] = numbers
    return frame


class Command(BaseCommand):
    help = "Report k-anonymity, l-diversity and t-closeness of a customer table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path, help="customer table (CSV)")
        parser.add_argument("--quasi-identifiers", help="comma-separated quasi-identifier columns")
        parser.add_argument("--sensitive", default="", help="comma-separated sensitive columns")
        parser.add_argument("--json", type=Path, help="also write the report as JSON here")
        parser.add_argument("--k", type=int, help="generalise until every class has at least K rows")
        parser.add_argument(
            "--max-suppression", type=float, default=0.05, help="largest share of rows removed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            frame = read_table(Path(options["input"]))
        except SegmentationError as exc:
            raise CommandError(str(exc)) from None
        quasi = _names(options.get("quasi_identifiers"))
        if not quasi:
            suggested = suggest_quasi_identifiers(list(frame.columns))
            hint = f" (suggested: {','.join(suggested)})" if suggested else ""
            raise CommandError(f"name the quasi-identifiers with --quasi-identifiers a,b,c{hint}")
        sensitive = _names(options.get("sensitive"))
        frame = numeric_where_possible(frame, sensitive)
        try:
            report = privacy_report(frame, quasi, sensitive)
            if options.get("k"):
                result = generalise(frame, quasi, k=options["k"], max_suppression=options["max_suppression"])
                after = privacy_report(result.frame, quasi, sensitive) if len(result.frame) else None
                report.generalisation = {**result.to_dict(), "after": after.to_dict() if after else None}
        except SegmentationError as exc:
            raise CommandError(str(exc)) from None
        self._print(report)
        if options.get("json"):
            Path(options["json"]).write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
            self.stdout.write(f"wrote {options['json']}")

    def _print(self, report: Any) -> None:
        out = self.stdout.write
        out(f"Rows: {report.rows}; quasi-identifiers: {', '.join(report.quasi_identifiers)}")
        out(
            f"k-anonymity: {report.k_anonymity} (smallest of {report.equivalence_classes} equivalence classes)"
        )
        sizes = ", ".join(f"{n} of size {s}" for s, n in sorted(report.class_size_distribution.items())[:10])
        out(f"Class sizes: {sizes}{' …' if len(report.class_size_distribution) > 10 else ''}")
        for k, rows in report.rows_in_classes_below.items():
            out(f"  rows in classes smaller than {k}: {rows} ({rows / report.rows:.1%})")
        if report.sensitive:
            out(f"Sensitive: {', '.join(report.sensitive)}")
            out(f"l-diversity (distinct): {report.l_diversity}")
            out(
                f"entropy l-diversity: {report.entropy_l_diversity} (exact {report.entropy_l_diversity_exact:.3f})"
            )
            out(f"t-closeness: {report.t_closeness:.4f}")
        if report.generalisation:
            g = report.generalisation
            out(
                f"Generalised to k={g['achieved_k']} (target {g['target_k']}), information loss {g['information_loss']:.3f}:"
            )
            for column, level in g["levels"].items():
                out(f"  {column}: {level}")
            out(f"  suppressed rows: {g['suppressed_rows']}")
