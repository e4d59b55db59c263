"""``/api/v1/projects/<id>/members/``: a project's members, through the portal's services."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors, services
from projects.models import Membership, Project

from . import serializers as s
from .base import ERROR, valid

MEMBER_REFUSALS = {400: ERROR, 403: ERROR, 404: ERROR}


@extend_schema_view(
    list=extend_schema(summary="The members of a project, with their roles"),
    create=extend_schema(
        summary="Invite an existing user in a role (project administrators)",
        request=s.MemberInviteSerializer,
        responses={201: s.MemberSerializer, **MEMBER_REFUSALS},
    ),
    partial_update=extend_schema(
        summary="Change a member's role (project administrators)",
        request=s.MemberRoleSerializer,
        responses={200: s.MemberSerializer, **MEMBER_REFUSALS},
    ),
    destroy=extend_schema(
        summary="Remove a member (project administrators)", responses={204: None, **MEMBER_REFUSALS}
    ),
)
class MemberViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A project's members through the same services as the portal's members page."""

    serializer_class = s.MemberSerializer
    lookup_field = "user_id"

    def project(self) -> Project:
        return get_object_or_404(selectors.projects_for_user(self.request.user), pk=self.kwargs["project_pk"])

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no project
            return Membership.objects.none()
        return selectors.project_members(self.project())

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.project()
        data = valid(s.MemberInviteSerializer, request)
        membership = services.member_invite(
            project=project,
            actor=request.user,
            username_or_email=data["user"],
            role=data["role"],
            request=request._request,
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = valid(s.MemberRoleSerializer, request)
        membership = services.member_role_set(
            project=membership.project,
            actor=request.user,
            user=membership.user,
            role=data["role"],
            request=request._request,
        )
        return Response(self.get_serializer(membership).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        services.member_remove(
            project=membership.project, actor=request.user, user=membership.user, request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
