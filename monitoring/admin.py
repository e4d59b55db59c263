from __future__ import annotations

from django.contrib import admin

from .models import AlertSettings


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = ("project", "level", "webhook_url")
