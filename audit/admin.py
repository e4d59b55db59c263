"""Admin site: the audit trail is read-only for everybody."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "actor_name", "action", "project", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("actor_name", "action", "object_id")
