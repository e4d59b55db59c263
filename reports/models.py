"""Files derived from a segment version and handed to the client."""

from __future__ import annotations

from django.db import models


def deliverable_path(instance: Deliverable, filename: str) -> str:
    return f"projects/{instance.version.project_id}/versions/{instance.version.number}/{filename}.enc"


class Deliverable(models.Model):
    class Kind(models.TextChoices):
        LABELS = "labels.csv", "Segment labels (CSV)"
        PROFILE = "profile.csv", "Segment profile (CSV)"
        METRICS = "metrics.json", "Metrics (JSON)"
        SCORER_POSTGRESQL = "scorer_postgresql.sql", "SQL scorer for PostgreSQL"
        SCORER_SQLITE = "scorer_sqlite.sql", "SQL scorer for SQLite"
        DECK = "deck.pptx", "Executive deck (PowerPoint)"
        MANIFEST = "manifest.json", "Manifest with hashes"

    version = models.ForeignKey(
        "governance.SegmentVersion", on_delete=models.CASCADE, related_name="deliverables"
    )
    kind = models.CharField(max_length=60, choices=Kind.choices)
    file = models.FileField(upload_to=deliverable_path, max_length=500)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "kind"]
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="one_deliverable_per_kind")]

    def __str__(self) -> str:
        return f"{self.version} {self.kind}"

    @property
    def filename(self) -> str:
        return self.kind

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.kind.rsplit(".", 1)[-1], "application/octet-stream")


CONTENT_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "sql": "application/sql",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain",
}
