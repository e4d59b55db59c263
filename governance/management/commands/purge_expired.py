"""``manage.py purge_expired``: delete personal data past its project's retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from governance.erasure import retention_purge


class Command(BaseCommand):
    help = "Delete datasets, kept raw uploads and label files whose retention period has expired."

    def handle(self, *args: Any, **options: Any) -> None:
        totals = retention_purge()
        self.stdout.write(
            f"purged {totals['datasets']} dataset(s), {totals['raw_files']} raw upload(s), "
            f"{totals['label_files']} label file(s)"
        )
