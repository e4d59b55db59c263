"""``/api/v1/``: the REST API; ``/api/schema/`` and ``/api/docs/``: its OpenAPI 3 description."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import experiments, members, monitoring, views

app_name = "api"

router = DefaultRouter()
router.include_root_view = False
router.include_format_suffixes = False
router.register("clients", views.ClientViewSet, basename="client")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("runs", views.RunViewSet, basename="run")
router.register("versions", views.VersionViewSet, basename="version")
router.register("deliverables", views.DeliverableViewSet, basename="deliverable")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("checks", monitoring.MonitoringCheckViewSet, basename="check")
router.register("refreshes", monitoring.RefreshViewSet, basename="refresh")
router.register("experiments", experiments.ExperimentViewSet, basename="experiment")
router.register("analyses", experiments.AnalysisViewSet, basename="analysis")

urlpatterns = [
    path("v1/versions/<int:pk>/score", views.ScoreView.as_view({"post": "create"}), name="version-score"),
    path(
        "v1/experiments/<int:pk>/files/<str:name>",
        experiments.ExperimentViewSet.as_view({"get": "file"}),
        name="experiment-file",
    ),
    path(
        "v1/analyses/<int:pk>/files/<str:name>",
        experiments.AnalysisViewSet.as_view({"get": "file"}),
        name="analysis-file",
    ),
    path(
        "v1/projects/<int:project_pk>/members/",
        members.MemberViewSet.as_view({"get": "list", "post": "create"}),
        name="project-members",
    ),
    path(
        "v1/projects/<int:project_pk>/members/<int:user_id>/",
        members.MemberViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="project-member",
    ),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, strict CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
