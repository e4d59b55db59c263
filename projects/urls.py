from __future__ import annotations

from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/members/", views.members, name="members"),
    path("projects/<int:pk>/members/<int:user_id>/role/", views.member_role, name="member_role"),
    path("projects/<int:pk>/members/<int:user_id>/remove/", views.member_remove, name="member_remove"),
]
