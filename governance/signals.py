"""What governance asks of the layers above it, without importing them.

Erasure and retention reach every per-customer file of a project, and some of those files
(the label deliverables) belong to the reports app above governance. Each signal's receivers
do their part inside the caller's transaction and return how many files they changed.
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: project, ids (the customer's original id and its pseudonym); returns files rewritten.
customer_erasure_requested = Signal()
# kwargs: project, cutoff (files made before it are deleted); returns files deleted.
retention_purge_requested = Signal()
# kwargs: version, change (the approving VersionStatusChange). Sent once the approval has
# committed, so receivers (the reports' approved edition) never build for a rolled-back step.
version_approved = Signal()


def files_changed(signal: Signal, **kwargs: object) -> int:
    """Send ``signal`` and add up what every receiver reports."""
    return sum(int(count or 0) for _, count in signal.send(sender=None, **kwargs))


# kwargs: version. Sent once a change to how the version reads (segment names and actions, the
# project's column labels) has committed, so the reports rebuild the draft deck and report.
presentation_changed = Signal()
