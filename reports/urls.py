from __future__ import annotations

from django.urls import path

from . import views

app_name = "reports"

# Under /governance/, where the export was first published: the address is a contract.
urlpatterns = [
    path("versions/<int:pk>/records.csv", views.version_records_export, name="version_records_export"),
    path("versions/<int:pk>/approved.zip", views.version_approved_pack, name="version_approved_pack"),
    path(
        "versions/<int:pk>/deliverables.zip", views.version_deliverables_zip, name="version_deliverables_zip"
    ),
]
