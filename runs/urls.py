from __future__ import annotations

from django.urls import path

from . import views

app_name = "runs"

urlpatterns = [
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/datasets/upload/", views.dataset_upload, name="dataset_upload"),
    path("projects/<int:pk>/runs/new/", views.run_new, name="run_new"),
    path("projects/<int:pk>/runs/spec/", views.run_spec_preview, name="run_spec_preview"),
    path("runs/compare/", views.run_compare, name="run_compare"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/mitigate/", views.run_mitigate, name="run_mitigate"),
    path("deliverables/<int:pk>/download/", views.deliverable_download, name="deliverable_download"),
]
