"""``manage.py verify_audit_log``: exit 0 if the audit chain is intact, 1 naming the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.selectors import audit_chain_check


class Command(BaseCommand):
    help = "Verify the hash chain of the audit trail; report the first broken link if any."

    def handle(self, *args: Any, **options: Any) -> None:
        count, broken = audit_chain_check()
        if broken is not None:
            raise CommandError(f"audit chain BROKEN at event #{broken.event_id}: {broken.reason}")
        self.stdout.write(f"audit chain intact: {count} events verified")
