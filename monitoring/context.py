"""The count of unread monitoring notifications, for the navigation bar of every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from projects.selectors import projects_for_user

    from .models import Notification

    unread = Notification.objects.filter(
        user=user, read_at__isnull=True, monitoring_check__version__project__in=projects_for_user(user)
    )
    return {"unread_notifications": unread.count()}
