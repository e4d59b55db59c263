"""The monitoring page of a version: upload current data, read each check, follow the trend."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from governance.deployment import version_deployment, version_lineage
from governance.models import SegmentVersion
from governance.selectors import versions_for_user
from projects import access
from segplatform.downloads import attachment
from segplatform.errors import ApplicationError

from .alert_settings import alert_settings_for, alert_settings_save
from .forms import AlertSettingsForm, CurrentDataForm, DataSourceForm, ScheduleForm
from .models import DataSource, Notification, Refresh
from .presentation import check_detail, check_trend
from .refresh import lineage_source_set
from .refresh_jobs import refresh_request
from .schedules import lineage_schedule_set, schedule_words
from .services import current_dataset_upload, monitoring_check, monitoring_file

CONTENT_TYPES = {
    "drift.json": "application/json",
    "segment_shares.csv": "text/csv",
    "migration.csv": "text/csv",
    "monitoring.pdf": "application/pdf",
}


@login_required
def version_monitoring(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(versions_for_user(request.user).select_related("run__dataset"), pk=pk)
    role = access.role_on(request.user, version.project)
    form = CurrentDataForm()
    if request.method == "POST":
        access.require(request.user, version.project, "upload")
        form = CurrentDataForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                dataset = current_dataset_upload(
                    version=version,
                    name=upload.name,
                    content=upload.read(),
                    user=request.user,
                    request=request,
                )
                check = monitoring_check(version=version, dataset=dataset, user=request.user, request=request)
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request, f"Monitoring of {version.label}: {check.get_overall_level_display()}."
                )
                return redirect("monitoring:version_monitoring", pk=version.pk)
    checks = list(version.checks.all()[:50])
    source = _source(version)
    context = {
        "version": version,
        "project": version.project,
        "deployment": version_deployment(version),
        "latest": check_detail(checks[0]) if checks else None,
        "trend": check_trend(checks),
        "form": form,
        "can_upload": access.allowed(role, "upload"),
        "can_set_source": access.allowed(role, "manage_sources") and version.run is not None,
        "source": source,
        "source_form": DataSourceForm(),
        "schedule_form": ScheduleForm(),
        "schedule": schedule_words(source) if source is not None else "",
        "refresh": _latest_refresh(version, source),
        "can_set_alerts": access.allowed(role, "manage_alerts"),
        "alert_form": _alert_form(version),
    }
    return render(request, "monitoring/version_monitoring.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def latest_check_file(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    version = get_object_or_404(versions_for_user(request.user), pk=pk)
    check = version.checks.first()
    if check is None:
        messages.error(request, f"{version.label} has no monitoring check yet: upload current data first.")
        return redirect("monitoring:version_monitoring", pk=version.pk)
    try:
        data = monitoring_file(check=check, name=name, user=request.user, request=request)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("monitoring:version_monitoring", pk=version.pk)
    return attachment(data, f"{version.project.name}-{version.label}-{name}", CONTENT_TYPES[name])


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's monitoring notifications, newest first; opening the page marks them read."""
    mine = Notification.objects.filter(user=request.user).select_related("monitoring_check__version__project")
    page = render(request, "monitoring/notifications.html", {"notifications": list(mine[:100])})
    mine.filter(read_at__isnull=True).update(read_at=timezone.now())
    return page


@login_required
@require_POST
def lineage_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask a worker to refresh the version's lineage from its data source (the deployed version is monitored)."""
    version = get_object_or_404(versions_for_user(request.user).select_related("run__dataset"), pk=pk)
    try:
        refresh, created = refresh_request(
            project=version.project,
            lineage=version_lineage(version),
            user=request.user,
            trigger=Refresh.Trigger.PORTAL,
            request=request,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if created:
            messages.success(
                request,
                "The refresh is queued: a worker pulls the data source and monitors the "
                "deployed version; this page shows the check when it is done.",
            )
        else:
            messages.info(
                request,
                f"A refresh of {refresh.lineage} is already {refresh.get_status_display().lower()} "
                f"(asked for {refresh.created_at:%Y-%m-%d %H:%M} UTC): it was not started twice.",
            )
    return redirect("monitoring:version_monitoring", pk=version.pk)


@login_required
@require_POST
def lineage_source_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the version's lineage's data source (project administrators)."""
    version = get_object_or_404(versions_for_user(request.user).select_related("run__dataset"), pk=pk)
    form = DataSourceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("monitoring:version_monitoring", pk=version.pk)
    try:
        lineage_source_set(
            project=version.project,
            lineage=version_lineage(version),
            user=request.user,
            request=request,
            **form.cleaned_data,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The data source is saved; its URL is kept encrypted and not shown again.")
    return redirect("monitoring:version_monitoring", pk=version.pk)


def _source(version: SegmentVersion) -> DataSource | None:
    try:
        lineage = version_lineage(version)
    except ApplicationError:
        return None
    return DataSource.objects.filter(project=version.project, lineage=lineage).first()


def _latest_refresh(version: SegmentVersion, source: DataSource | None) -> Refresh | None:
    if source is None:
        return None
    return Refresh.objects.filter(project=version.project, lineage=source.lineage).first()


@login_required
@require_POST
def lineage_schedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Refresh the version's lineage on a schedule (project administrators)."""
    version = get_object_or_404(versions_for_user(request.user).select_related("run__dataset"), pk=pk)
    source = _source(version)
    form = ScheduleForm(request.POST)
    if source is None:
        messages.error(request, "Set the lineage's data source first: a schedule refreshes from it.")
    elif not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            lineage_schedule_set(source=source, user=request.user, request=request, **form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"The lineage is refreshed {schedule_words(source)}.")
    return redirect("monitoring:version_monitoring", pk=version.pk)


def _alert_form(version: SegmentVersion) -> AlertSettingsForm:
    row = alert_settings_for(version.project)
    return AlertSettingsForm(
        initial={"level": row.level, "emails": ", ".join(row.emails), "webhook_url": row.webhook_url}
    )


@login_required
@require_POST
def alert_settings_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Who hears of the project's monitoring levels (project administrators)."""
    version = get_object_or_404(versions_for_user(request.user), pk=pk)
    form = AlertSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("monitoring:version_monitoring", pk=version.pk)
    _, secret = alert_settings_save(
        project=version.project, user=request.user, request=request, **form.cleaned_data
    )
    messages.success(request, "Alert settings saved.")
    if secret:
        messages.warning(
            request,
            f"The webhook's secret, shown this once: {secret}. The receiver checks each alert's "
            "X-Segplatform-Signature (sha256=HMAC of the body) with it.",
        )
    return redirect("monitoring:version_monitoring", pk=version.pk)
