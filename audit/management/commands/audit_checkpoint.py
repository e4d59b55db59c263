"""``manage.py audit_checkpoint``: publish the head of the intact audit chain outside the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import checkpoint_file, checkpoint_publish


class Command(BaseCommand):
    help = "Append the audit chain's head (count, hash, time) to the checkpoint file."

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = checkpoint_publish()
        if checkpoint is None:
            raise CommandError("no checkpoint written: the chain is empty or broken (run verify_audit_log)")
        self.stdout.write(
            f"checkpoint {checkpoint.count} events, head {checkpoint.head} -> {checkpoint_file()}"
        )
