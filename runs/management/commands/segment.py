"""``manage.py segment INPUT --spec SPEC.json --out DIR [--project NAME]``

Runs a segmentation through the same service as the portal and the worker, files it under a
project, and writes the version's deliverables into ``--out``.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.pii_review import default_decisions, privacy_review_confirm
from projects import services as project_services
from projects.models import SegmentationRun
from reports.services import deliverables_export
from runs import services
from segmentation import SegmentationSpec, SpecError
from segplatform.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Segment a customer table or transaction log and write labels, profile, features, metrics, "
        "scorers, deck and manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "input", type=Path, help="customer table or transaction log (CSV, Parquet or XLSX)"
        )
        parser.add_argument("--spec", type=Path, required=True, help="segmentation spec (JSON)")
        parser.add_argument("--out", type=Path, required=True, help="folder for the deliverables")
        parser.add_argument("--project", help="file the run under this project (default: a local one)")

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command passes keyword options as given, unconverted: normalise to paths here.
        spec = _read_spec(Path(options["spec"]))
        source = Path(options["input"])
        out_dir = Path(options["out"])
        try:
            content = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None

        actor = f"cli:{getpass.getuser()}"
        project = project_services.command_line_project(options.get("project"))
        try:
            dataset = services.dataset_upload(
                project=project,
                name=source.name,
                content=content,
                id_column=spec["id_column"],
                user=None,
                inline=True,  # no worker in this command: the file is read here, whatever its size
            )
            # Nobody is there to review detected PII: apply the suggested decisions, on the record.
            review = dataset.privacy_review
            if not review.is_confirmed:
                privacy_review_confirm(
                    review=review,
                    decisions=default_decisions(review),
                    quasi_identifiers=review.suggested_quasi_identifiers,
                    sensitive=[],
                    user=None,
                    actor_name=actor,
                )
                dataset.refresh_from_db()
            run = services.run_start(project=project, dataset=dataset, spec=spec, user=None, enqueue=False)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

        run = services.run_execute(run_id=run.pk)
        if run.status != SegmentationRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")

        version = run.version
        written = deliverables_export(version=version, out_dir=out_dir, actor_name=actor)
        selected = version.metrics_view.selected
        self.stdout.write(
            f"{project} {version.label}: {selected.k} segments by {selected.algorithm} "
            f"({selected.reason})\nversion_hash {version.version_hash}"
        )
        for row in version.profile:
            self.stdout.write(f"  {row['segment']:>2}  {row['size']:>8}  {row['share']:6.1%}  {row['name']}")
        self.stdout.write(f"wrote {len(written)} files to {out_dir}")


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        spec = json.loads(path.read_text())
    except OSError as exc:
        raise CommandError(f"cannot read the spec {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CommandError(f"the spec {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        SegmentationSpec.from_dict(spec)
    except SpecError as exc:
        raise CommandError(f"the spec {path} is invalid: {exc}") from None
    return spec
