from __future__ import annotations

from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("versions/<int:pk>/monitoring/", views.version_monitoring, name="version_monitoring"),
    path("versions/<int:pk>/monitoring/latest/<str:name>", views.latest_check_file, name="latest_check_file"),
    path("versions/<int:pk>/monitoring/refresh/", views.lineage_refresh_view, name="lineage_refresh"),
    path("versions/<int:pk>/monitoring/source/", views.lineage_source_view, name="lineage_source"),
    path("versions/<int:pk>/monitoring/schedule/", views.lineage_schedule_view, name="lineage_schedule"),
    path("versions/<int:pk>/monitoring/alerts/", views.alert_settings_view, name="alert_settings"),
]
