from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Deliverables"

    def ready(self) -> None:
        from . import approved, drafts, erasure  # noqa: F401  (answer governance's signals)
