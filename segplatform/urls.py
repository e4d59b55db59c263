from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("governance/", include("governance.urls")),
    path("governance/", include("reports.urls")),
    path("governance/", include("monitoring.urls")),
    path("governance/", include("experiments.urls")),
    path("api/", include("api.urls")),
    path("", include("projects.urls")),
    path("", include("runs.urls")),
]
