"""``manage.py verify_audit_log [--anchor HASH]``: exit 0 if the audit chain is intact, else 1
naming the first broken event.

Checks every event's keyed hash and link, then every checkpoint published outside the database
(``audit.checkpoints``), which catches what the chain alone cannot see: the removal of the newest
events, or a chain rebuilt with the key. ``--anchor`` adds head hashes kept elsewhere by hand.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import checkpoint_break, checkpoints_read
from audit.models import AuditEvent
from audit.selectors import audit_chain_check


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; report the first broken link if any."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor", action="append", default=[], help="a head hash printed by an earlier run"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, broken = audit_chain_check()
        if broken is not None:
            raise CommandError(f"audit chain BROKEN at event #{broken.event_id}: {broken.reason}")
        broken = checkpoint_break()
        if broken is not None:
            raise CommandError(f"audit chain BROKEN: {broken.reason}")
        for anchor in options["anchor"]:
            if not AuditEvent.objects.filter(hash=anchor).exists():
                raise CommandError(
                    f"audit chain BROKEN: the anchored event {anchor[:16]}… is gone, so events were "
                    "removed from the end of the chain"
                )
        head = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        self.stdout.write(
            f"audit chain intact: {count} events verified against {len(checkpoints_read())} checkpoint(s); "
            f"head {head or '(empty)'}"
        )
