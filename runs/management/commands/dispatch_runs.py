"""``manage.py dispatch_runs``: send the runs that were queued while the broker was down."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from runs import outbox


class Command(BaseCommand):
    help = "Send queued runs the broker has not taken yet (their enqueue failed while it was down)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent, waiting = outbox.runs_dispatch()
        self.stdout.write(f"sent {sent} run(s) to the workers")
        if waiting:
            raise CommandError(f"{waiting} run(s) still wait: the broker is unreachable")
