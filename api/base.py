"""What every API view shares: the error response, the project filter, reading a body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import viewsets
from rest_framework.request import Request

PROJECT_FILTER = OpenApiParameter("project", int, description="Only this project's objects.")
ERROR = OpenApiResponse(description='`{"error": {"code", "message", "fields"}}`')


def int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({name: [f"must be a whole number, not '{raw}'"]}) from None


class ProjectScopedViewSet(viewsets.GenericViewSet):
    """Lists filterable by ``?project=<id>``; the base queryset is the caller's own."""

    project_lookup = "project"

    def filter_queryset(self, queryset: Any) -> Any:
        project = int_param(self.request, "project")
        if project is not None:
            queryset = queryset.filter(**{self.project_lookup: project})
        return queryset


def valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
