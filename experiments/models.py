"""Experiments by segment on a governed version: the design, its registration, and analyses."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Experiment(models.Model):
    """A stratified experiment on one segment version.

    ``design`` holds what the consultant asked for (arms, metrics, α, power, seed, plan); on
    submission the engine's ``design.json`` is frozen into ``registration`` with its SHA-256, and
    from then on nothing of the design changes: the assignment is rebuilt from it on download and
    must give the same counts. A reviewer other than the submitter approves the registration
    (maker-checker), as versions are approved.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for registration"
        REGISTERED = "registered", "Registered"
        REJECTED = "rejected", "Rejected"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="experiments")
    version = models.ForeignKey(
        "governance.SegmentVersion", on_delete=models.PROTECT, related_name="experiments"
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    design = models.JSONField(help_text="The design as asked: arms, metrics, alpha, power, seed, plan.")
    registration = models.JSONField(null=True, blank=True, help_text="design.json as frozen on submission.")
    registration_sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} on {self.version}"


class ExperimentAnalysis(models.Model):
    """One analysis of uploaded outcomes; metrics or a covariate outside the registration are exploratory."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="analyses")
    # The outcomes upload; it may be purged under retention while the figures stay.
    dataset = models.ForeignKey(
        "projects.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    metrics = models.JSONField()
    covariate = models.CharField(max_length=255, blank=True)
    exploratory = models.BooleanField(default=False)
    result = models.JSONField(help_text="analysis.json as computed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
