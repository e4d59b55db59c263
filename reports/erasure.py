"""The reports' part of erasure and retention: the per-customer deliverables (``labels.csv``,
``clv.csv`` and ``movers.csv``).

Governance asks through its signals (see :mod:`governance.signals`); these receivers answer
inside its transaction with how many files they changed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from governance.erasure import erase_rows, rewrite_file
from governance.signals import customer_erasure_requested, retention_purge_requested

from .models import Deliverable

PER_CUSTOMER_KINDS = ("labels.csv", "clv.csv", "movers.csv")


@receiver(customer_erasure_requested)
def erase_from_labels(sender: Any, project: Any, ids: set[str], **kwargs: Any) -> int:
    changed = 0
    for deliverable in Deliverable.objects.filter(version__project=project, kind__in=PER_CUSTOMER_KINDS):
        if erase_rows(deliverable.file, "customer_id", ids, deliverable.kind):
            changed += 1
            _refresh_hashes(deliverable)
    return changed


@receiver(retention_purge_requested)
def purge_labels(sender: Any, project: Any, cutoff: Any, **kwargs: Any) -> int:
    expired = list(
        Deliverable.objects.filter(
            version__project=project, kind__in=PER_CUSTOMER_KINDS, version__created_at__lt=cutoff
        )
    )
    for deliverable in expired:
        name, storage = deliverable.file.name, deliverable.file.storage
        deliverable.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
    return len(expired)


def _refresh_hashes(deliverable: Deliverable) -> None:
    """The label file changed: update its recorded hash and the manifest's entry for it."""
    with deliverable.file.open("rb") as handle:
        data = handle.read()
    sha = hashlib.sha256(data).hexdigest()
    Deliverable.objects.filter(pk=deliverable.pk).update(
        file=deliverable.file.name, sha256=sha, size_bytes=len(data)
    )
    manifest = Deliverable.objects.filter(version=deliverable.version, kind="manifest.json").first()
    if manifest is None:
        return
    with manifest.file.open("rb") as handle:
        content = json.loads(handle.read())
    content["files"][deliverable.kind] = {"sha256": sha, "bytes": len(data)}
    content["erasures"] = int(content.get("erasures", 0)) + 1
    raw = (json.dumps(content, indent=2, sort_keys=True) + "\n").encode()
    rewrite_file(manifest.file, raw, manifest.kind)
    Deliverable.objects.filter(pk=manifest.pk).update(
        file=manifest.file.name, sha256=hashlib.sha256(raw).hexdigest(), size_bytes=len(raw)
    )
