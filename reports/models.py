"""Files derived from a segment version and handed to the client."""

from __future__ import annotations

from django.db import models


def deliverable_path(instance: Deliverable, filename: str) -> str:
    return f"projects/{instance.version.project_id}/versions/{instance.version.number}/{filename}.enc"


# The kind of a deliverable is its file name in the version's output folder. Descriptions live
# here rather than in field choices, so a new kind of file needs no migration.
DESCRIPTIONS = {
    "labels.csv": "Segment labels (CSV)",
    "profile.csv": "Segment profile (CSV)",
    "features.csv": "Customer features before scaling (CSV)",
    "metrics.json": "Metrics (JSON)",
    "scorer_postgresql.sql": "SQL scorer for PostgreSQL",
    "scorer_sqlite.sql": "SQL scorer for SQLite",
    "scorer_duckdb.sql": "SQL scorer for DuckDB",
    "scorer_snowflake.sql": "SQL scorer for Snowflake",
    "scorer_bigquery.sql": "SQL scorer for BigQuery",
    "scorer_spark.sql": "SQL scorer for Spark",
    "scorer_databricks.sql": "SQL scorer for Databricks",
    "deck.pptx": "Executive deck (PowerPoint)",
    "manifest.json": "Manifest with hashes",
    "labels.xlsx": "Segment labels (Excel)",
    "profile.xlsx": "Segment profile (Excel)",
    "report.pdf": "Report (PDF)",
    "deck-approved.pptx": "Executive deck, approved edition (PowerPoint)",
    "report-approved.pdf": "Report, approved edition (PDF)",
    "rules.txt": "Segment rules (text, with a SQL CASE)",
    "rules.json": "Segment rules with fidelity (JSON)",
    "rules.csv": "Segment rules for business users (CSV)",
    "bias.csv": "Bias audit by protected group (CSV)",
    "bias.json": "Bias audit findings (JSON)",
    "lifecycle.json": "Cohorts, lifetime value by segment and lifecycle states (JSON)",
    "clv.csv": "Lifetime value, lifecycle state and churn probability per customer (CSV)",
    "movers.csv": "Customers likely to turn dormant (CSV)",
}


class Deliverable(models.Model):
    class Kind:
        LABELS = "labels.csv"
        PROFILE = "profile.csv"
        FEATURES = "features.csv"
        METRICS = "metrics.json"
        DECK = "deck.pptx"
        MANIFEST = "manifest.json"

    version = models.ForeignKey(
        "governance.SegmentVersion", on_delete=models.CASCADE, related_name="deliverables"
    )
    kind = models.CharField(max_length=60, help_text="The file name, e.g. labels.csv.")
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
    def description(self) -> str:
        return DESCRIPTIONS.get(self.kind, self.kind)

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
