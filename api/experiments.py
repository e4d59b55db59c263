"""``/api/v1/experiments/``: experiments by segment on approved versions: design, registration
(maker-checker), the files to run them, and analyses of outcomes; ``/api/v1/analyses/``: those
analyses and their files (effects, sample-ratio checks, experiment.pdf and experiment.pptx).

Every rule is the experiments services'; an experiment of a project the caller is not a member of
is a 404, as everywhere."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from experiments.analysis import experiment_analyse
from experiments.analysis_files import ANALYSIS_FILES, analysis_file
from experiments.models import Experiment, ExperimentAnalysis
from experiments.services import experiment_create, experiment_decide, experiment_files, experiment_submit
from governance.selectors import versions_for_user
from projects.selectors import projects_for_user
from segplatform.downloads import attachment

from .base import ERROR, PROJECT_FILTER, ProjectScopedViewSet, int_param, valid
from .serializers import sized_upload

EXPERIMENT_FILES = {
    "design.json": "application/json",
    "assignment.csv": "text/csv",
    "balance.csv": "text/csv",
    "assignment_postgresql.sql": "application/sql",
    "assignment_duckdb.sql": "application/sql",
}
REFUSALS = {400: ERROR, 403: ERROR, 404: ERROR}
FILE = {(200, "application/octet-stream"): OpenApiTypes.BINARY, 403: ERROR, 404: ERROR}


class ExperimentSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "project",
            "version",
            "name",
            "status",
            "design",
            "registration",
            "registration_sha256",
            "created_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {"help_text": "draft, submitted, registered or rejected."},
            "design": {"help_text": "The design as asked (arms, metrics, α, power, seed, plan)."},
            "registration": {"help_text": "design.json as frozen on submission; null for a draft."},
        }


class ExperimentCreateSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="An approved version of one of your projects.")
    name = serializers.CharField(max_length=200)
    design = serializers.DictField(
        help_text='As the portal asks: {"arms": "control:1,treatment:1", "seed", "alpha", "power", '
        '"primary": {"name", "kind", "baseline", "sd", "mde"}, "guardrails", "hypotheses", '
        '"analysis_plan", "covariate", "rho"}.'
    )

    def validate_design(self, design: dict[str, Any]) -> dict[str, Any]:
        """Arms as the portal writes them (text) or as design.json lists them; the services read the rest."""
        arms = design.get("arms")
        listed = isinstance(arms, list) and all(
            isinstance(a, dict) and {"name", "ratio"} <= set(a) for a in arms
        )
        if arms is not None and not isinstance(arms, str) and not listed:
            raise serializers.ValidationError(
                'arms are written "name:ratio" separated by commas, e.g. "control:1,treatment:1"'
            )
        return design


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AnalysisSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ExperimentAnalysis
        fields = [
            "id",
            "experiment",
            "metrics",
            "covariate",
            "exploratory",
            "result",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "exploratory": {
                "help_text": "A metric or covariate the registration did not name, or no registration."
            },
            "result": {"help_text": "analysis.json as computed."},
        }


class AnalysisStartSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="Outcomes per customer (the assignment's ids): CSV, Parquet or XLSX."
    )
    metrics = serializers.CharField(help_text="The outcome columns to analyse, comma-separated.")
    covariate = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="A pre-period column for CUPED."
    )

    def validate_file(self, upload: Any) -> Any:
        return sized_upload(upload)

    def validate_metrics(self, text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        if not names:
            raise serializers.ValidationError("name at least one outcome column, comma-separated")
        return names


def _file_name(name: str, known: dict[str, str], what: str) -> str:
    if name not in known:
        raise exceptions.NotFound(f"{what} has no file '{name}': ask for one of {', '.join(known)}.")
    return known[name]


VERSION = OpenApiParameter("version", int, description="Only this version's experiments.")


@extend_schema_view(
    list=extend_schema(summary="Experiments, newest first", parameters=[PROJECT_FILTER, VERSION]),
    retrieve=extend_schema(summary="One experiment: its status, design as asked and registration"),
    create=extend_schema(
        summary="Design an experiment on an approved version (consultant): a draft",
        request=ExperimentCreateSerializer,
        responses={201: ExperimentSerializer, **REFUSALS},
    ),
)
class ExperimentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ProjectScopedViewSet
):
    serializer_class = ExperimentSerializer
    project_lookup = "project"

    def get_queryset(self) -> Any:
        return Experiment.objects.filter(project__in=projects_for_user(self.request.user)).select_related(
            "version", "created_by", "submitted_by", "decided_by"
        )

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        version = int_param(self.request, "version")
        return queryset if version is None else queryset.filter(version=version)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = valid(ExperimentCreateSerializer, request)
        version = get_object_or_404(versions_for_user(request.user), pk=data["version"])
        experiment = experiment_create(
            version=version,
            name=data["name"],
            design_asked=data["design"],
            user=request.user,
            request=request._request,
        )
        return Response(self.get_serializer(experiment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Submit the design for registration (consultant): design.json frozen with its SHA-256",
        request=None,
        responses={200: ExperimentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        experiment = experiment_submit(
            experiment=self.get_object(), user=request.user, request=request._request
        )
        return Response(self.get_serializer(experiment).data)

    @extend_schema(
        summary="Register a submitted design (a reviewer other than its author)",
        request=None,
        responses={200: ExperimentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def register(self, request: Request, pk: str | None = None) -> Response:
        experiment = experiment_decide(
            experiment=self.get_object(), approve=True, user=request.user, request=request._request
        )
        return Response(self.get_serializer(experiment).data)

    @extend_schema(
        summary="Reject a submitted design, saying why (reviewer)",
        request=DecisionSerializer,
        responses={200: ExperimentSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        experiment = self.get_object()
        data = valid(DecisionSerializer, request)
        experiment = experiment_decide(
            experiment=experiment,
            approve=False,
            user=request.user,
            reason=data["reason"],
            request=request._request,
        )
        return Response(self.get_serializer(experiment).data)

    @extend_schema(
        summary="Download a design file (audited): design.json, assignment.csv, balance.csv, "
        "assignment_postgresql.sql or assignment_duckdb.sql",
        responses=FILE,
    )
    def file(self, request: Request, pk: str | None = None, name: str = "") -> HttpResponse:
        experiment = self.get_object()
        content_type = _file_name(name, EXPERIMENT_FILES, "an experiment")
        files = experiment_files(experiment=experiment, user=request.user, request=request._request)
        return attachment(files[name], f"{experiment.version.label}-{experiment.name}-{name}", content_type)

    @extend_schema(
        methods=["GET"],
        summary="The experiment's analyses, newest first",
        responses={200: AnalysisSerializer(many=True), 404: ERROR},
    )
    @extend_schema(
        methods=["POST"],
        summary="Analyse outcomes (consultant): upload them per customer, name the metrics",
        request={"multipart/form-data": AnalysisStartSerializer},
        responses={201: AnalysisSerializer, **REFUSALS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
        pagination_class=None,
    )
    def analyses(self, request: Request, pk: str | None = None) -> Response:
        experiment = self.get_object()
        if request.method == "GET":
            rows = experiment.analyses.select_related("created_by")
            return Response(AnalysisSerializer(rows, many=True).data)
        data = valid(AnalysisStartSerializer, request)
        upload = data["file"]
        analysis = experiment_analyse(
            experiment=experiment,
            name=upload.name,
            content=upload.read(),
            metrics=data["metrics"],
            covariate=data["covariate"] or None,
            user=request.user,
            request=request._request,
        )
        return Response(AnalysisSerializer(analysis).data, status=status.HTTP_201_CREATED)


EXPERIMENT_FILTER = OpenApiParameter("experiment", int, description="Only this experiment's analyses.")


@extend_schema_view(
    list=extend_schema(
        summary="Analyses of experiments, newest first", parameters=[PROJECT_FILTER, EXPERIMENT_FILTER]
    ),
    retrieve=extend_schema(summary="One analysis: analysis.json as computed"),
)
class AnalysisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectScopedViewSet):
    serializer_class = AnalysisSerializer
    project_lookup = "experiment__project"

    def get_queryset(self) -> Any:
        return ExperimentAnalysis.objects.filter(
            experiment__project__in=projects_for_user(self.request.user)
        ).select_related("experiment__version__project__client", "created_by")

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        experiment = int_param(self.request, "experiment")
        return queryset if experiment is None else queryset.filter(experiment=experiment)

    @extend_schema(
        summary="Download an analysis file (audited): effects.csv, srm.csv, analysis.json, "
        "experiment.pdf or experiment.pptx",
        responses=FILE,
    )
    def file(self, request: Request, pk: str | None = None, name: str = "") -> HttpResponse:
        analysis = self.get_object()
        content_type = _file_name(name, ANALYSIS_FILES, "an analysis")
        data = analysis_file(analysis=analysis, name=name, user=request.user, request=request._request)
        experiment = analysis.experiment
        return attachment(
            data, f"{experiment.version.label}-{experiment.name}-{analysis.pk}-{name}", content_type
        )
