"""``manage.py experiment design|analyse``: an experiment by segment from the command line.

    python manage.py experiment design --version VERSION_ID --arms control:1,treatment:1 --seed 0 --out DIR
    python manage.py experiment analyse DIR/design.json OUTCOMES_FILE --metric NAME [--covariate NAME] --out DIR2

``design`` writes ``design.json``, ``assignment.csv`` (``customer_id``, ``segment``, ``arm``),
``balance.csv`` and ``assignment_<dialect>.sql``; with ``--metric`` (and its baseline and minimum
detectable effect) design.json carries the sample size and power per segment. ``analyse`` reads the
``assignment.csv`` beside ``design.json``, anonymises the outcomes as the version's data was (so
ids match the assignment's), and writes ``effects.csv``, ``srm.csv``, ``analysis.json`` and
``experiment.pdf``. A design from the command line is not registered: pre-registration is the
portal's (submitted, then approved by someone else), so every analysis here is exploratory unless
design.json is a registered experiment's.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.command_line import version_for_command_line
from segplatform.errors import ApplicationError

from ...command_line import analyse_from_files, design_to_files


class Command(BaseCommand):
    help = "Design (assignment, balance, SQL) or analyse (effects, SRM, PDF) an experiment by segment."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The contract's --version names a segment version; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        steps = parser.add_subparsers(dest="step", required=True, parser_class=CommandParser)
        design = steps.add_parser("design", help="assign a version's customers to arms within segments")
        design.add_argument(
            "--version", required=True, help="version_id from manifest.json (v1…) or version_hash"
        )
        design.add_argument("--arms", required=True, help="name:ratio,… the first arm is the control")
        design.add_argument("--seed", type=int, default=0, help="the seed the assignment's salt comes from")
        design.add_argument("--out", type=Path, required=True, help="folder for the design files")
        design.add_argument("--project", help="the version's project (default: the command line's own)")
        design.add_argument("--metric", help="the primary metric's name, for sample size and power")
        design.add_argument("--kind", choices=["binary", "continuous"], default="binary")
        design.add_argument("--baseline", type=float, help="the control's rate (binary) or mean (continuous)")
        design.add_argument("--sd", type=float, help="the metric's standard deviation (continuous)")
        design.add_argument("--mde", type=float, help="the minimum detectable effect, absolute")
        design.add_argument("--alpha", type=float, default=0.05)
        design.add_argument("--power", type=float, default=0.8)
        design.add_argument("--covariate", help="a pre-period covariate for CUPED")
        design.add_argument("--rho", type=float, help="its expected correlation with the metric")

        analyse = steps.add_parser("analyse", help="effects by segment from outcomes per customer")
        analyse.add_argument("design", type=Path, help="design.json written by `experiment design`")
        analyse.add_argument("outcomes", type=Path, help="outcomes per customer (CSV, Parquet or XLSX)")
        analyse.add_argument(
            "--metric", action="append", required=True, help="an outcome column (repeatable)"
        )
        analyse.add_argument("--covariate", help="the pre-period covariate column, for CUPED")
        analyse.add_argument("--correction", choices=["holm", "fdr_bh"], default=None)
        analyse.add_argument("--out", type=Path, required=True, help="folder for the analysis files")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = f"cli:{getpass.getuser()}"
        try:
            if options["step"] == "design":
                version = version_for_command_line(str(options["version"]), options.get("project"))
                written = design_to_files(
                    version=version, options=options, out=Path(options["out"]), actor=actor
                )
            else:
                written = analyse_from_files(
                    design_path=Path(options["design"]),
                    outcomes_path=Path(options["outcomes"]),
                    metrics=options["metric"],
                    covariate=options.get("covariate"),
                    correction=options.get("correction"),
                    out=Path(options["out"]),
                    actor=actor,
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except OSError as exc:
            raise CommandError(f"cannot read or write {exc.filename}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"design.json cannot be read as JSON: {exc.msg} (line {exc.lineno})") from None
        self.stdout.write(f"wrote {', '.join(p.name for p in written)} to {options['out']}")
