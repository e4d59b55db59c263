from __future__ import annotations

from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("datasets/<int:pk>/privacy/", views.privacy_review, name="privacy_review"),
]
