"""What the API reads and writes. Input serializers validate at the edge; services decide."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from governance.models import SegmentVersion
from projects import selectors
from projects.models import Client, Dataset, Membership, Project, SegmentationRun
from reports.models import Deliverable
from runs.datasets import upload_size_check
from segplatform.errors import ApplicationError


def _user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name", "created_at"]


class ProjectSerializer(serializers.ModelSerializer):
    client = serializers.CharField(source="client.name", read_only=True)
    client_id = serializers.IntegerField(read_only=True)
    role = serializers.SerializerMethodField(help_text="Your role in the project.")

    class Meta:
        model = Project
        fields = ["id", "client", "client_id", "name", "description", "role", "created_at"]

    def get_role(self, project: Project) -> str | None:
        return selectors.project_role(user=_user(self), project=project)


class ProjectCreateSerializer(serializers.Serializer):
    client = serializers.CharField(max_length=200, help_text="The client's name; created on first use.")
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class UserProjectField(serializers.PrimaryKeyRelatedField):
    """A project id among the user's projects: anyone else's is 'does not exist', never 'forbidden'."""

    def get_queryset(self) -> Any:
        return selectors.projects_for_user(_user(self.parent) if self.parent else None)


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "project",
            "name",
            "sha256",
            "size_bytes",
            "row_count",
            "id_column",
            "schema",
            "profile",
            "status",
            "error",
            "uploaded_at",
        ]
        read_only_fields = ["profile"]
        extra_kwargs = {
            "status": {"help_text": "checking (a worker is reading the file), ready, or rejected."},
            "row_count": {"help_text": "0 until the file is checked."},
        }


class DatasetUploadSerializer(serializers.Serializer):
    project = UserProjectField(queryset=Project.objects.none())
    file = serializers.FileField(help_text="A CSV customer table, one row per customer.")
    id_column = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="Blank: detected."
    )

    def validate_file(self, upload: Any) -> Any:
        return sized_upload(upload)


def sized_upload(upload: Any) -> Any:
    """An uploaded file within the size limit, or the field's error in the service's words."""
    try:
        upload_size_check(upload.name, upload.size)
    except ApplicationError as error:
        raise serializers.ValidationError(error.message) from None
    return upload


class RunSerializer(serializers.ModelSerializer):
    version = serializers.SerializerMethodField(help_text="The segment version a successful run made.")
    awaiting_dispatch = serializers.BooleanField(
        read_only=True,
        help_text="True while a queued run waits for the message broker; it starts when the broker is back.",
    )
    attempts = serializers.IntegerField(
        read_only=True,
        help_text="1, plus one for each time the run was put back in the queue after its worker was lost.",
    )

    class Meta:
        model = SegmentationRun
        fields = [
            "id",
            "project",
            "dataset",
            "spec",
            "status",
            "progress",
            "step",
            "error",
            "awaiting_dispatch",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "version",
        ]

    def get_version(self, run: SegmentationRun) -> int | None:
        version = getattr(run, "version", None)
        return version.pk if version is not None else None


class RunStartSerializer(serializers.Serializer):
    project = UserProjectField(queryset=Project.objects.none())
    dataset = serializers.IntegerField(help_text="A dataset of the same project.")
    spec = serializers.DictField(
        help_text="The run spec: id_column, numeric_columns, k_min, k_max, random_state (see the README)."
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        dataset = data["project"].datasets.filter(pk=data["dataset"]).first()
        if dataset is None:
            raise serializers.ValidationError({"dataset": ["the project has no dataset with this id"]})
        data["dataset"] = dataset
        return data


class VersionSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    segment_names = serializers.ListField(child=serializers.CharField(), read_only=True)
    status = serializers.SerializerMethodField(help_text="draft, in_review, approved, rejected or retired.")
    deployed = serializers.SerializerMethodField(
        help_text="When this is its lineage's deployed version: the lineage and since when; else null."
    )

    class Meta:
        model = SegmentVersion
        fields = [
            "id",
            "project",
            "run",
            "parent",
            "number",
            "label",
            "version_hash",
            "model_sha256",
            "data_sha256",
            "code_version",
            "spec",
            "metrics",
            "profile",
            "segment_names",
            "status",
            "deployed",
            "created_at",
        ]

    def get_status(self, version: SegmentVersion) -> str:
        from governance.lifecycle import version_status

        return version_status(version)

    def get_deployed(self, version: SegmentVersion) -> dict[str, str] | None:
        from governance.deployment import version_deployment

        deployment = version_deployment(version)
        if deployment is None:
            return None
        return {"lineage": deployment.lineage, "since": deployment.deployed_at.isoformat()}


class DeliverableSerializer(serializers.ModelSerializer):
    filename = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Deliverable
        fields = [
            "id",
            "version",
            "kind",
            "filename",
            "description",
            "content_type",
            "sha256",
            "size_bytes",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, deliverable: Deliverable) -> str:
        return reverse("api:deliverable-download", args=[deliverable.pk])


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_name",
            "action",
            "project",
            "object_type",
            "object_id",
            "details",
            "previous_hash",
            "hash",
        ]


@extend_schema_field(OpenApiTypes.OBJECT)
class RecordField(serializers.DictField):
    """One customer: the model's fields by name (numbers, or null for unknown)."""


class ScoreRequestSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=RecordField(),
        allow_empty=False,
        help_text="Customers to score, each an object of the model's fields (see the version's "
        "spec.numeric_columns); null is a missing value, imputed as in training.",
    )


class ScoreResultSerializer(serializers.Serializer):
    customer_id = serializers.JSONField(required=False, help_text="Echoed when the record has the id column.")
    segment = serializers.IntegerField()
    segment_name = serializers.CharField()
    probabilities = serializers.ListField(
        child=serializers.FloatField(), required=False, help_text="Per segment, where the model has them."
    )
    p_alive = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Where the version has CLV (a log's default run): the BG/NBD probability the customer "
        "is still active, for the customer id the record carries; null for a customer the version "
        "did not value (see clv_note). Also expected_purchases_<H> and clv_<H> for its horizon of H days.",
    )
    clv_note = serializers.CharField(required=False, help_text="Why p_alive and clv_<H> are null.")


class ScoreResponseSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    version_hash = serializers.CharField()
    count = serializers.IntegerField()
    results = ScoreResultSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    from_ = serializers.JSONField(allow_null=True)
    to = serializers.JSONField(allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class VersionDiffSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    against = serializers.IntegerField()
    same_data = serializers.BooleanField()
    spec = serializers.DictField(child=ChangeSerializer(), help_text="Every spec key whose value differs.")
    selected = ChangeSerializer()
    segments = serializers.ListField(
        child=serializers.DictField(), help_text="Both profiles, by segment number."
    )
    agreement = serializers.FloatField(
        allow_null=True,
        help_text="Adjusted Rand index of the labels on the same data; null for different data.",
    )
    renamed = serializers.ListField(
        child=serializers.DictField(),
        help_text="Segments a consultant renamed, in either version: version, segment, old and new name.",
    )


class VersionTransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why: required to reject or retire, optional to submit or approve; kept in the audit trail.",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=(
            "Why approve a version whose structure test found no segments (metrics.structure.verdict "
            "'none'): required to approve such a version; kept in the audit trail."
        ),
    )


class SegmentNameSerializer(serializers.Serializer):
    segment = serializers.IntegerField(help_text="The segment's number, as in the version's profile.")
    # Blank passes here so the service says which segment needs a name.
    name = serializers.CharField(allow_blank=True, trim_whitespace=True, max_length=200)
    actions = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text="Suggested actions, one text each; left out, the segment keeps its current ones.",
    )


class VersionNamesSerializer(serializers.Serializer):
    segments = serializers.ListField(child=SegmentNameSerializer(), allow_empty=False)


class PresentedSegmentSerializer(serializers.Serializer):
    segment = serializers.IntegerField()
    name = serializers.CharField(help_text="The name the client reads.")
    actions = serializers.ListField(child=serializers.CharField())
    suggested_name = serializers.CharField(help_text="The name the engine suggested.")
    suggested_actions = serializers.ListField(child=serializers.CharField())
    renamed = serializers.BooleanField()
    edited_by = serializers.CharField(help_text="Who last edited the name or actions; blank if nobody.")
    edited_at = serializers.DateTimeField(allow_null=True)


class VersionNamesResultSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    version_hash = serializers.CharField(help_text="Unchanged by a rename: names are presentation.")
    segments = PresentedSegmentSerializer(many=True)


class VersionStatusChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="version_id")
    label = serializers.CharField(source="version.label")
    status = serializers.CharField(help_text="The version's status after this step.")
    actor = serializers.CharField(source="actor.username", help_text="Who took the step.")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField(help_text="When.")


class MemberSerializer(serializers.ModelSerializer):
    """One member of a project: who, in which role, since when."""

    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(source="user.get_username", read_only=True)
    role = serializers.CharField(read_only=True, help_text="consultant, reviewer or admin.")
    since = serializers.DateTimeField(source="created_at", read_only=True, help_text="When they joined.")

    class Meta:
        model = Membership
        fields = ["user_id", "username", "role", "since"]


class MemberInviteSerializer(serializers.Serializer):
    user = serializers.CharField(
        max_length=254, help_text="The username or e-mail address of an existing user."
    )
    # Free text, not a choice: the service names the roles when it refuses one, as on the portal.
    role = serializers.CharField(max_length=20, help_text="consultant, reviewer or admin.")


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=20, help_text="consultant, reviewer or admin.")
