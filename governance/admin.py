"""Admin site: administrators set each project's privacy policy; history is read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from audit.admin import ReadOnlyAdmin

from .models import ProjectPolicy, SegmentVersion, VersionStatusChange


@admin.register(ProjectPolicy)
class ProjectPolicyAdmin(admin.ModelAdmin):
    list_display = ("project", "target_k", "keep_raw_days", "retention_days", "dp_budget_per_version")
    # The pseudonymisation key is never shown, not even encrypted.
    fields = ("project", "target_k", "keep_raw_days", "retention_days", "dp_budget_per_version")
    readonly_fields = ("project",)

    def has_add_permission(self, request: Any) -> bool:
        return False  # created with a fresh key on the project's first upload

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(SegmentVersion)
class SegmentVersionAdmin(ReadOnlyAdmin):
    list_display = ("project", "number", "version_hash", "created_by", "created_at")


@admin.register(VersionStatusChange)
class VersionStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("version", "status", "actor", "reason", "created_at")
