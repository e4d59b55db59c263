from __future__ import annotations

from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("projects/new/", views.project_new, name="project_new"),
]
