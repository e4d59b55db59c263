"""``manage.py segment_source --source TEXT --spec SPEC.json --out DIR [--sample-size N]
[--labels-table NAME] [--labels-parquet PATH]``

Segments a transaction log where it lives (a DuckDB file, a Parquet folder, a PostgreSQL
table, a Spark table or Parquet folder) with :func:`segmentation.sources.segment_source`: the
engine computes the features and the labels; this command writes ``labels.csv``,
``metrics.json``, ``model.json`` and the transaction scorer ``scorer.sql`` to ``--out``. It files no platform version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.management.commands.segment import _read_spec
from segmentation import SegmentationError, SegmentationSpec
from segmentation.sources import DEFAULT_MEMORY_LIMIT, DEFAULT_SAMPLE_SIZE, segment_source, source_from_text


class Command(BaseCommand):
    help = "Segment a transaction log inside the engine holding it (DuckDB, Parquet, PostgreSQL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            required=True,
            help="duckdb:<file>:<table>, parquet:<folder>, postgresql:<dsn>#<table>, "
            "spark:<master>#<table> or spark:<master>:parquet:<folder>",
        )
        parser.add_argument("--spec", type=Path, required=True, help="segmentation spec (JSON)")
        parser.add_argument("--out", type=Path, required=True, help="folder for the deliverables")
        parser.add_argument("--sample-size", type=int, default=DEFAULT_SAMPLE_SIZE)
        parser.add_argument("--labels-table", help="also write the labels to this table of the source")
        parser.add_argument("--replace-labels", action="store_true", help="replace an existing labels table")
        parser.add_argument("--labels-parquet", type=Path, help="also write the labels to this Parquet file")
        parser.add_argument("--memory-limit", default=DEFAULT_MEMORY_LIMIT, help="DuckDB's limit for Parquet")

    def handle(self, *args: Any, **options: Any) -> None:
        spec = SegmentationSpec.from_dict(_read_spec(Path(options["spec"])))
        out_dir = Path(options["out"])
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            source = source_from_text(options["source"], memory_limit=options["memory_limit"])
            try:
                run = segment_source(
                    source,
                    spec,
                    sample_size=options["sample_size"],
                    labels_table=options.get("labels_table"),
                    replace_labels=options["replace_labels"],
                    labels_parquet=options.get("labels_parquet"),
                    labels_csv=out_dir / "labels.csv",
                    progress=lambda stage, _fraction: self.stderr.write(f"  {stage}"),
                )
            finally:
                source.close()
        except SegmentationError as exc:
            raise CommandError(str(exc)) from None

        (out_dir / "metrics.json").write_text(json.dumps(run.metrics, indent=2, default=str))
        (out_dir / "model.json").write_bytes(run.model.to_json())
        (out_dir / "scorer.sql").write_text(run.scorer_sql)
        metrics = run.metrics
        self.stdout.write(
            f"{metrics['customers']} customers, fitted on {metrics['sampled']} "
            f"({len(metrics['strata'])} strata): {metrics['k']} segments"
        )
        for row in run.result.profile.itertuples():
            self.stdout.write(f"  {row.segment:>2}  {row.name}")
        self.stdout.write(f"wrote labels.csv, metrics.json, model.json and scorer.sql to {out_dir}")
