"""``/api/v1/checks/``: monitoring checks of versions: list, read, and start one on current data;
``/api/v1/refreshes/``: refreshes of lineages from their data sources, done by workers."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from governance.selectors import versions_for_user
from monitoring.models import MonitoringCheck, Refresh
from monitoring.refresh_jobs import refresh_request
from monitoring.services import current_dataset_upload, monitoring_check
from projects.selectors import projects_for_user

from .base import ERROR, PROJECT_FILTER, ProjectScopedViewSet, int_param, valid
from .serializers import sized_upload


class MonitoringCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = MonitoringCheck
        fields = ["id", "version", "dataset", "overall_level", "result", "retraining_run", "created_at"]
        read_only_fields = fields


class MonitoringCheckStartSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version to compare the current data with.")
    file = serializers.FileField(help_text="Current data with the version's columns: CSV, Parquet or XLSX.")

    def validate_file(self, upload: Any) -> Any:
        return sized_upload(upload)


class RefreshSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refresh
        fields = [
            "id",
            "project",
            "lineage",
            "status",
            "trigger",
            "monitoring_check",
            "error",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RefreshStartSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    lineage = serializers.CharField(
        max_length=255, help_text="The lineage: its data's file name without extension."
    )


VERSION = OpenApiParameter("version", int, description="Only this version's checks.")


@extend_schema_view(
    list=extend_schema(summary="Monitoring checks, newest first", parameters=[PROJECT_FILTER, VERSION]),
    retrieve=extend_schema(summary="One check: drift.json as computed"),
    create=extend_schema(
        summary="Compare current data with a version (consultant): upload, score, monitor",
        request=MonitoringCheckStartSerializer,
        responses={201: MonitoringCheckSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    ),
)
class MonitoringCheckViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProjectScopedViewSet
):
    serializer_class = MonitoringCheckSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    project_lookup = "version__project"

    def get_queryset(self) -> Any:
        return MonitoringCheck.objects.filter(version__in=versions_for_user(self.request.user))

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        version = int_param(self.request, "version")
        return queryset if version is None else queryset.filter(version=version)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = valid(MonitoringCheckStartSerializer, request)
        version = get_object_or_404(versions_for_user(request.user), pk=data["version"])
        upload = data["file"]
        dataset = current_dataset_upload(
            version=version,
            name=upload.name,
            content=upload.read(),
            user=request.user,
            request=request._request,
        )
        check = monitoring_check(
            version=version, dataset=dataset, user=request.user, request=request._request
        )
        return Response(self.get_serializer(check).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Refresh a lineage now (consultant): a worker pulls its data source and monitors the "
        "deployed version; one refresh of a lineage at a time",
        description="202 with the refresh to follow at /api/v1/refreshes/<id>/; when one is already "
        "under way, 200 with that one. On drift the refresh starts a retraining run.",
        request=RefreshStartSerializer,
        responses={200: RefreshSerializer, 202: RefreshSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=False, methods=["post"])
    def refresh(self, request: Request) -> Response:
        data = valid(RefreshStartSerializer, request)
        project = get_object_or_404(projects_for_user(request.user), pk=data["project"])
        refresh, created = refresh_request(
            project=project,
            lineage=data["lineage"],
            user=request.user,
            trigger=Refresh.Trigger.API,
            request=request._request,
        )
        return Response(
            RefreshSerializer(refresh).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
        )


LINEAGE = OpenApiParameter("lineage", str, description="Only this lineage's refreshes.")


@extend_schema_view(
    list=extend_schema(summary="Refreshes of lineages, newest first", parameters=[PROJECT_FILTER, LINEAGE]),
    retrieve=extend_schema(
        summary="One refresh: queued, running, done (with its check) or failed (with why)"
    ),
)
class RefreshViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    serializer_class = RefreshSerializer
    project_lookup = "project"

    def get_queryset(self) -> Any:
        return Refresh.objects.filter(project__in=projects_for_user(self.request.user))

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        lineage = self.request.query_params.get("lineage")
        return queryset if not lineage else queryset.filter(lineage=lineage)
