"""``manage.py monitor --version VERSION_ID CURRENT_FILE --out DIR``: monitor a version on current data.

``VERSION_ID`` is the ``version_id`` of the version's ``manifest.json`` (``v3``), looked up in
``--project`` (default: the project ``manage.py segment`` files its runs under), or the version's
``version_hash``. Writes ``drift.json``, ``segment_shares.csv``, ``migration.csv`` and
``monitoring.pdf`` into ``--out``.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.command_line import version_for_command_line
from segplatform.errors import ApplicationError

from ...services import current_dataset_upload, monitoring_check, monitoring_files


class Command(BaseCommand):
    help = "Monitor a version on current data: drift.json, segment_shares.csv, migration.csv, monitoring.pdf."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The contract's --version names a segment version; it replaces Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("current", type=Path, help="current customer table or log (CSV, Parquet or XLSX)")
        parser.add_argument(
            "--version", required=True, help="version_id from manifest.json (v1…) or version_hash"
        )
        parser.add_argument("--out", type=Path, required=True, help="folder for the monitoring files")
        parser.add_argument("--project", help="the version's project (default: the command line's own)")

    def handle(self, *args: Any, **options: Any) -> None:
        source, out_dir = Path(options["current"]), Path(options["out"])
        try:
            version = version_for_command_line(str(options["version"]), options.get("project"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        try:
            content = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from None
        actor = f"cli:{getpass.getuser()}"
        try:
            dataset = current_dataset_upload(
                version=version, name=source.name, content=content, user=None, actor_name=actor
            )
            check = monitoring_check(version=version, dataset=dataset, user=None, actor_name=actor)
            files = monitoring_files(check)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (out_dir / name).write_bytes(data)
        drift = check.result
        moved = [f["feature"] for f in drift["features"] if f["level"] != "none"]
        self.stdout.write(
            f"{version.project} {version.label}: overall {drift['overall_level']}"
            + (f"; features {', '.join(moved)}" if moved else "")
            + f"\nwrote {', '.join(files)} to {out_dir}"
        )
