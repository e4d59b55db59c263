from __future__ import annotations

from django.urls import path, re_path

from . import views

app_name = "governance"

urlpatterns = [
    path("datasets/<int:pk>/privacy/", views.privacy_review, name="privacy_review"),
    path("projects/<int:pk>/", views.project_governance, name="project"),
    path("projects/<int:pk>/presentation/", views.project_presentation, name="project_presentation"),
    re_path(
        r"^projects/(?P<pk>\d+)/audit\.(?P<fmt>csv|pdf)$", views.audit_trail_download, name="audit_trail"
    ),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("versions/<int:pk>/status/", views.version_action, name="version_action"),
    path("versions/<int:pk>/deploy/", views.version_deploy_view, name="version_deploy"),
    path("versions/<int:pk>/names/", views.version_names, name="version_names"),
    path("versions/<int:pk>/dp/", views.version_dp_release, name="version_dp_release"),
    path("dp-releases/<int:pk>/download/", views.dp_release_download, name="dp_release_download"),
]
