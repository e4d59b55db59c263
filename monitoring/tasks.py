"""Celery tasks: load ids, call one service, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task

from segplatform.errors import ApplicationError

from .models import DataSource
from .refresh import lineage_refresh

REFRESH_TASK = "monitoring.refresh_lineage"
logger = logging.getLogger(__name__)


@shared_task(name=REFRESH_TASK)
def refresh_lineage(source_id: int) -> int | None:
    """A scheduled refresh of the source's lineage; returns the check's id (None when refused)."""
    source = DataSource.objects.select_related("project").filter(pk=source_id).first()
    if source is None:
        return None
    try:
        return lineage_refresh(project=source.project, lineage=source.lineage).pk
    except ApplicationError as exc:  # nothing deployed, source unreachable: said, not retried blindly
        logger.warning("refresh of %s (%s) refused: %s", source.lineage, source.project, exc.message)
        return None
