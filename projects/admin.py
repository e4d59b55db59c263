"""Admin site: clients, projects and memberships, for staff.

Membership changes made here go through the projects services, so the audit trail records them
as it records the members page's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import Client, Membership, Project


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "created_by", "created_at"]
    list_select_related = ["client", "created_by"]
    list_filter = ["client"]
    search_fields = ["name", "client__name"]
    fields = ["client", "name", "description", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    inlines = [MembershipInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        for membership in formset.save(commit=False):
            services.membership_staff_save(membership=membership, actor=request.user, request=request)
        for membership in formset.deleted_objects:
            services.membership_staff_delete(membership=membership, actor=request.user, request=request)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_select_related = ["user", "project__client"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "project__name", "project__client__name"]
    raw_id_fields = ["user", "project"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Moving a membership to another user or project would be a removal and an addition in one.
        return ["user", "project", "created_at"] if obj is not None else ["created_at"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        services.membership_staff_save(membership=obj, actor=request.user, request=request)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_staff_delete(membership=obj, actor=request.user, request=request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "project"):
            services.membership_staff_delete(membership=membership, actor=request.user, request=request)
