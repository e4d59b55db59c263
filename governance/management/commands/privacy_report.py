"""``manage.py privacy_report INPUT --quasi-identifiers a,b,c --sensitive s [--json OUT] [--k K]``

Measures re-identification risk of a customer table (k-anonymity with the class-size
distribution, distinct and entropy l-diversity, t-closeness) and, with ``--k`` (and ``--l``,
``--entropy-l``, ``--t``), the least-loss generalisation that reaches those targets, using the
hierarchies given with ``--hierarchy COLUMN=PATH`` (ARX's CSV format) and writing the released
table with ``--out PATH``. Bad input ends with a one-line message and exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from segmentation import SegmentationError, read_table
from segmentation.protection.generalise import generalise
from segmentation.protection.hierarchy import Hierarchy, read_hierarchy
from segmentation.protection.risk import PrivacyReport, privacy_report, suggest_quasi_identifiers


def _names(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def _hierarchies(specs: list[str]) -> dict[str, Hierarchy]:
    result = {}
    for spec in specs:
        column, _, path = spec.partition("=")
        if not column.strip() or not path.strip():
            raise SegmentationError(f"--hierarchy {spec!r}: write it as COLUMN=PATH, e.g. age=age.csv")
        result[column.strip()] = read_hierarchy(Path(path.strip()), column.strip())
    return result


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
        parser.add_argument("--l", type=int, help="...and at least L distinct sensitive values")
        parser.add_argument(
            "--entropy-l", type=float, help="...and a sensitive entropy of at least log(L) in each class"
        )
        parser.add_argument("--t", type=float, help="...and a sensitive distance to the table of at most T")
        parser.add_argument(
            "--suppression",
            "--max-suppression",
            dest="suppression",
            type=float,
            default=0.05,
            help="largest share of rows removed (default 0.05)",
        )
        parser.add_argument(
            "--hierarchy",
            action="append",
            default=[],
            metavar="COLUMN=PATH",
            help="ARX hierarchy (value;level1;...;* per line, no header) for a quasi-identifier; repeatable",
        )
        parser.add_argument("--out", type=Path, help="write the generalised table (CSV) here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report, released = self._measure(options)
        except SegmentationError as exc:
            raise CommandError(str(exc), returncode=2) from None
        self._print(report)
        if options.get("json"):
            Path(options["json"]).write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
            self.stdout.write(f"wrote {options['json']}")
        if released is not None:
            released.to_csv(options["out"], index=False)
            self.stdout.write(f"wrote {options['out']} ({len(released)} rows)")

    def _measure(self, options: dict[str, Any]) -> tuple[PrivacyReport, pd.DataFrame | None]:
        source = Path(options["input"])
        if not source.is_file():
            raise SegmentationError(f"no file {source}: give the path of a CSV, Parquet or XLSX table")
        frame = read_table(source)
        quasi = _names(options.get("quasi_identifiers"))
        if not quasi:
            suggested = suggest_quasi_identifiers(list(frame.columns))
            hint = f" (suggested: {','.join(suggested)})" if suggested else ""
            raise SegmentationError(f"name the quasi-identifiers with --quasi-identifiers a,b,c{hint}")
        sensitive = _names(options.get("sensitive"))
        frame = numeric_where_possible(frame, sensitive)
        report = privacy_report(frame, quasi, sensitive)
        hierarchies = _hierarchies(options["hierarchy"])
        targets = [options.get(name) for name in ("k", "l", "entropy_l", "t", "out")]
        if all(v is None for v in targets) and not hierarchies:
            return report, None
        result = generalise(
            frame,
            quasi,
            k=options.get("k") or 1,
            max_suppression=options["suppression"],
            sensitive=sensitive,
            l_distinct=options.get("l"),
            l_entropy=options.get("entropy_l"),
            t=options.get("t"),
            hierarchies=hierarchies,
        )
        after = privacy_report(result.frame, quasi, sensitive)
        report.generalisation = {**result.to_dict(), "after": after.to_dict()}
        return report, result.frame if options.get("out") else None

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
                f"Generalised to k={g['achieved_k']} (target {g['target_k']}): precision loss "
                f"{g['information_loss']:.3f}, discernibility {g['discernibility']:,.0f} "
                f"({g['evaluated_nodes']} of {g['lattice_nodes']} lattice nodes evaluated)"
            )
            for column, level in g["levels"].items():
                out(f"  {column}: {level} (level {g['level_numbers'][column]} of {g['heights'][column]})")
            out(f"  suppressed rows: {g['suppressed_rows']}")
