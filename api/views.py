"""The REST API: parse, call a selector or a service, serialise.

Every queryset starts from ``projects.selectors``, so an object of a project the caller is not a
member of is a 404 on every route, exactly as in the portal.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AuditEvent
from governance.deployment import version_deploy
from governance.selectors import versions_for_user
from projects import selectors, services
from projects.models import Client
from reports.selectors import deliverables_for_user
from reports.services import deliverable_fetch
from runs import services as run_services
from runs.mitigation import mitigation_start
from runs.scoring import version_score
from runs.version_diff import version_diff
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from . import serializers as s
from .base import ERROR, PROJECT_FILTER, ProjectScopedViewSet, int_param, valid

VERSION_FILTER = OpenApiParameter("version", int, description="Only this version's deliverables.")
TRANSITION: dict[str, Any] = {
    "request": s.VersionTransitionSerializer,
    "responses": {200: s.VersionStatusChangeSerializer, 400: ERROR, 404: ERROR},
}


@extend_schema_view(list=extend_schema(summary="Clients of your projects"))
class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ClientSerializer

    def get_queryset(self) -> Any:
        return Client.objects.filter(projects__in=selectors.projects_for_user(self.request.user)).distinct()


@extend_schema_view(
    list=extend_schema(summary="Your projects"),
    create=extend_schema(request=s.ProjectCreateSerializer, responses={201: s.ProjectSerializer, 400: ERROR}),
)
class ProjectViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.ProjectSerializer

    def get_queryset(self) -> Any:
        return selectors.projects_for_user(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = valid(s.ProjectCreateSerializer, request)
        project = services.project_create(
            client=services.client_get_or_create(name=data["client"]),
            name=data["name"],
            description=data["description"],
            user=request.user,
        )
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[PROJECT_FILTER]),
    create=extend_schema(
        summary="Upload a customer table (multipart)",
        request={"multipart/form-data": s.DatasetUploadSerializer},
        description="A small file is read at once (201, status ready); a larger one is stored and "
        "read on a worker (202, status checking): poll the dataset until it is ready or rejected.",
        responses={201: s.DatasetSerializer, 202: s.DatasetSerializer, 400: ERROR},
    ),
)
class DatasetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProjectScopedViewSet
):
    serializer_class = s.DatasetSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        return selectors.datasets_for_user(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = valid(s.DatasetUploadSerializer, request)
        upload = data["file"]
        dataset = run_services.dataset_upload(
            project=data["project"],
            name=upload.name,
            content=upload.read(),
            id_column=data["id_column"],
            user=request.user,
            request=request._request,
        )
        code = status.HTTP_201_CREATED if dataset.is_ready else status.HTTP_202_ACCEPTED
        return Response(self.get_serializer(dataset).data, status=code)


@extend_schema_view(
    list=extend_schema(parameters=[PROJECT_FILTER]),
    retrieve=extend_schema(summary="A run with its status and progress"),
    create=extend_schema(
        summary="Start a run on a worker",
        request=s.RunStartSerializer,
        responses={201: s.RunSerializer, 400: ERROR},
    ),
)
class RunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProjectScopedViewSet
):
    serializer_class = s.RunSerializer

    def get_queryset(self) -> Any:
        return selectors.runs_for_user(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = valid(s.RunStartSerializer, request)
        run = run_services.run_start(
            project=data["project"],
            dataset=data["dataset"],
            spec=data["spec"],
            user=request.user,
            request=request._request,
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a queued or running run", request=None, responses={200: s.RunSerializer, 400: ERROR}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        run_services.run_cancel(run=run, user=request.user, request=request._request)
        run.refresh_from_db()
        return Response(self.get_serializer(run).data)


@extend_schema_view(list=extend_schema(parameters=[PROJECT_FILTER]))
class VersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    serializer_class = s.VersionSerializer

    def get_queryset(self) -> Any:
        return versions_for_user(self.request.user)

    @extend_schema(
        summary="What changed since another version (by default, its parent)",
        parameters=[OpenApiParameter("against", int, description="The version to compare with.")],
        responses={200: s.VersionDiffSerializer, 400: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        against_id = int_param(request, "against")
        if against_id is None:
            if version.parent_id is None:
                raise ApplicationError(
                    f"{version.label} is the first version of its data: name a version to compare with in ?against=",
                    field="against",
                )
            against_id = version.parent_id
        against = get_object_or_404(self.get_queryset(), pk=against_id)
        return Response(version_diff(version=version, against=against))

    @extend_schema(
        summary="Deploy an approved version for its lineage, replacing the deployed one (reviewer)",
        request=None,
        responses={200: s.VersionSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def deploy(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        version_deploy(version=version, user=request.user, request=request._request)
        return Response(self.get_serializer(version).data)

    @extend_schema(
        summary="Segment the version's data again without the proxies its bias audit flagged (consultant)",
        request=None,
        responses={201: s.RunSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def mitigate(self, request: Request, pk: str | None = None) -> Response:
        run = mitigation_start(version=self.get_object(), user=request.user, request=request._request)
        return Response(s.RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename segments and set their actions, while the version is a draft (consultant)",
        request=s.VersionNamesSerializer,
        responses={200: s.VersionNamesResultSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def names(self, request: Request, pk: str | None = None) -> Response:
        from governance.presentation import segment_names_set

        version = self.get_object()
        data = valid(s.VersionNamesSerializer, request)
        segments = segment_names_set(
            version=version, segments=data["segments"], user=request.user, request=request._request
        )
        return Response(
            {
                "version": version.pk,
                "version_hash": version.version_hash,
                "segments": [segment.to_dict() for segment in segments],
            }
        )

    def _transition(self, request: Request, step: str) -> Response:
        """Take one lifecycle step through the governance service, which holds every rule."""
        from governance.lifecycle import version_transition

        version = self.get_object()  # 404 for a version of a project the caller is not in
        data = valid(s.VersionTransitionSerializer, request)
        change = version_transition(
            version=version,
            action=step,
            user=request.user,
            reason=data["reason"],
            request=request._request,
            override_reason=data["override_reason"],
        )
        return Response(s.VersionStatusChangeSerializer(change).data)

    @extend_schema(summary="Submit a draft or rejected version for review (consultant)", **TRANSITION)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "submit")

    @extend_schema(summary="Approve a version in review (a reviewer other than its author)", **TRANSITION)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "approve")

    @extend_schema(summary="Reject a version in review, saying why (reviewer)", **TRANSITION)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "reject")

    @extend_schema(summary="Retire an approved version, saying why (reviewer)", **TRANSITION)
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "retire")


@extend_schema_view(list=extend_schema(parameters=[PROJECT_FILTER, VERSION_FILTER]))
class DeliverableViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    serializer_class = s.DeliverableSerializer
    project_lookup = "version__project"

    def get_queryset(self) -> Any:
        return deliverables_for_user(self.request.user)

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        version = int_param(self.request, "version")
        return queryset.filter(version=version) if version is not None else queryset

    @extend_schema(
        summary="Download the file (audited)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ERROR},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> HttpResponse:
        deliverable = self.get_object()
        try:
            data = deliverable_fetch(deliverable=deliverable, user=request.user, request=request._request)
        except ApplicationError as exc:
            raise exceptions.PermissionDenied(exc.message) from None
        filename = f"{deliverable.version.project.name}-{deliverable.version.label}-{deliverable.filename}"
        return attachment(data, filename, deliverable.content_type)


@extend_schema_view(list=extend_schema(parameters=[PROJECT_FILTER]))
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    """The audit trail of your projects, newest first."""

    serializer_class = s.AuditEventSerializer

    def get_queryset(self) -> Any:
        projects = selectors.projects_for_user(self.request.user)
        return AuditEvent.objects.filter(project__in=projects).order_by("-id")


@extend_schema(
    summary="Score customers with a segment version",
    request=s.ScoreRequestSerializer,
    responses={200: s.ScoreResponseSerializer, 400: ERROR, 404: ERROR},
)
class ScoreView(viewsets.ViewSet):
    def create(self, request: Request, pk: int) -> Response:
        version = get_object_or_404(versions_for_user(request.user), pk=pk)
        data = valid(s.ScoreRequestSerializer, request)
        results = version_score(
            version=version, records=data["records"], user=request.user, request=request._request
        )
        return Response(
            {
                "version": version.pk,
                "version_hash": version.version_hash,
                "count": len(results),
                "results": results,
            }
        )
