"""What each audit action means, in the words a reviewer reads on the portal and in exports.

The stored ``action`` stays a stable code (the chain covers it, and tools filter on it); this
only says it for people. A code without an entry reads as itself, so a new action is never hidden.
"""

from __future__ import annotations

ACTION_LABELS = {
    "auth.login": "signed in",
    "auth.logout": "signed out",
    "auth.login_failed": "failed to sign in",
    "auth.login_locked": "sign-in refused: too many failed attempts",
    "auth.two_factor_on": "turned two-factor sign-in on",
    "auth.two_factor_off": "turned two-factor sign-in off",
    "auth.api_token_rotate": "created an API token",
    "auth.api_token_revoke": "revoked an API token",
    "project.create": "created the project",
    "project.industry": "chose the project's industry (the words for segment names)",
    "project.column_label": "changed how columns are labelled",
    "membership.add": "added a member",
    "membership.role_change": "changed a member's role",
    "membership.remove": "removed a member",
    "dataset.upload": "uploaded a dataset",
    "dataset.ready": "dataset checked and ready",
    "dataset.rejected": "dataset refused after checking",
    "pii.detect": "found personal data in an upload",
    "pii.confirm": "confirmed the privacy review",
    "run.start": "started a run",
    "run.succeeded": "run finished",
    "run.failed": "run failed",
    "run.cancel": "cancelled a run",
    "run.cancelled": "run cancelled",
    "run.retried": "run restarted after its worker stopped",
    "version.create": "created a segment version",
    "version.rename": "renamed segments or changed their actions",
    "version.submit": "submitted a version for review",
    "version.approve": "approved a version",
    "version.structure_override": "approved a version the structure test recommended against, saying why",
    "version.reject": "rejected a version",
    "version.retire": "retired a version",
    "version.score": "scored customers with a version",
    "version.monitor": "monitored a version against current data",
    "version.deploy": "deployed a version for its lineage",
    "version.monitoring_download": "downloaded a monitoring file",
    "monitoring.alert": "alerted on a monitoring check",
    "lineage.refresh": "refreshed a lineage from its data source",
    "lineage.refresh_requested": "asked for a refresh of a lineage",
    "lineage.refresh_retried": "requeued a refresh whose worker stopped",
    "lineage.refresh_failed": "a refresh of a lineage failed",
    "monitoring.alert_settings": "changed who hears of monitoring alerts",
    "lineage.source_set": "set a lineage's data source",
    "lineage.schedule_set": "set a lineage's refresh schedule",
    "deliverable.download": "downloaded a deliverable",
    "deliverable.approved_edition": "built the approved edition of the deliverables",
    "deliverable.export": "exported deliverables",
    "export.records": "exported customer records",
    "export.refused": "record export refused",
    "customer.erase": "erased a customer",
    "dp.release": "made a differentially private release",
    "dp.release_download": "downloaded a differentially private release",
    "retention.purge": "purged data past its retention period",
    "retention.raw_deleted": "deleted a raw upload after anonymisation",
    "audit.export": "exported the audit trail",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
