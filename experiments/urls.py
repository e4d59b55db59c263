from __future__ import annotations

from django.urls import path

from . import views

app_name = "experiments"

urlpatterns = [
    path("versions/<int:pk>/experiments/", views.version_experiments, name="version_experiments"),
    path("experiments/<int:pk>/", views.experiment_detail, name="experiment_detail"),
    path("experiments/<int:pk>/submit/", views.experiment_submit_view, name="experiment_submit"),
    path("experiments/<int:pk>/decide/", views.experiment_decide_view, name="experiment_decide"),
    path("experiments/<int:pk>/analyse/", views.experiment_analyse_view, name="experiment_analyse"),
    path("experiments/<int:pk>/files/<str:name>", views.experiment_file, name="experiment_file"),
    path("analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
    path("analyses/<int:pk>/files/<str:name>", views.analysis_file_view, name="analysis_file"),
]
