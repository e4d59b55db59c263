"""No route of the platform, portal or API, gives a member of one project anything of another.

Routes are read from the URL resolver, so a route added later is covered without editing this
file; a route whose object this file cannot tell fails the test until it is added to OBJECTS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import api_key

pytestmark = pytest.mark.django_db

# Routes that hold nothing of any project (sign-in, the API description, Django's admin site,
# which refuses anyone who is not staff).
NOT_PROJECT_DATA = ("admin/", "accounts/", "api/schema/", "api/docs/")
# The word before an id in a route names the kind of object the id points to.
OBJECTS = {
    "projects": "project",
    "clients": "client",
    "datasets": "dataset",
    "runs": "run",
    "versions": "version",
    "deliverables": "deliverable",
    "audit-events": "event",
    "members": "member",
    "dp-releases": "dp_release",
    "checks": "check",
    "refreshes": "refresh",
    "experiments": "experiment",
    "analyses": "analysis",
}
# Route parameters that are not object ids take a representative value.
VALUES = {"fmt": "csv", "name": "drift.json"}


def routes() -> Iterator[tuple[str, list[str]]]:
    """Every route as its path template (``runs/{pk}/cancel/``) with its parameter names."""

    def walk(patterns, prefix):  # type: ignore[no-untyped-def]
        for entry in patterns:
            text = prefix + _route_text(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, text)
            elif isinstance(entry, URLPattern):
                yield text, list(entry.pattern.regex.groupindex)

    yield from walk(get_resolver().url_patterns, "")


def _route_text(pattern) -> str:  # type: ignore[no-untyped-def]
    text = str(pattern)
    # RoutePattern: "runs/<int:pk>/"; RegexPattern (DRF routers): "^runs/(?P<pk>[^/.]+)/$".
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    return text.lstrip("^").rstrip("$").replace("\\.", ".")


def targets(run) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from audit.models import AuditEvent
    from experiments.models import Experiment, ExperimentAnalysis
    from governance.dp_release import dp_release_create
    from monitoring.models import Refresh
    from monitoring.services import monitoring_check

    version = run.version
    release = version.dp_releases.first() or dp_release_create(
        version=version, epsilon=0.1, user=run.created_by
    )
    check = version.checks.first() or monitoring_check(
        version=version, dataset=run.dataset, user=run.created_by
    )
    refresh = Refresh.objects.filter(project=run.project).first() or Refresh.objects.create(
        project=run.project, lineage="customers", trigger="portal", status="done"
    )
    experiment = Experiment.objects.filter(version=version).first() or Experiment.objects.create(
        project=run.project,
        version=version,
        name="Isolation",
        status=Experiment.Status.REGISTERED,
        design={"arms": "control:1,treatment:1", "seed": 0},
        registration={"arms": [{"name": "control", "ratio": 1}, {"name": "treatment", "ratio": 1}]},
        registration_sha256="0" * 64,
    )
    analysis = experiment.analyses.first() or ExperimentAnalysis.objects.create(
        experiment=experiment, metrics=["spend"], result={"effects": [], "srm": []}
    )
    return {
        "experiment": experiment.pk,
        "analysis": analysis.pk,
        "check": check.pk,
        "refresh": refresh.pk,
        "dp_release": release.pk,
        "project": run.project.pk,
        "client": run.project.client.pk,
        "dataset": run.dataset.pk,
        "run": run.pk,
        "version": version.pk,
        "deliverable": version.deliverables.get(kind="labels.csv").pk,
        "event": AuditEvent.objects.filter(project=run.project).latest("id").pk,
        "member": run.project.memberships.get(user=run.created_by).user_id,
    }


def concrete_urls(run) -> list[str]:  # type: ignore[no-untyped-def]
    ids = targets(run)
    urls = []
    for template, params in routes():
        if template.startswith(NOT_PROJECT_DATA) or template.startswith("static/"):
            continue
        url = template
        for name in params:
            if name in VALUES:
                url = url.replace("{" + name + "}", VALUES[name])
                continue
            word = template.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
            assert word in OBJECTS, f"route {template}: add what '{word}/{{{name}}}' points to in OBJECTS"
            url = url.replace("{" + name + "}", str(ids[OBJECTS[word]]))
        if not params:
            url += f"?project={ids['project']}&version={ids['version']}"
        urls.append("/" + url)
    return urls


def secrets_of(run) -> list[bytes]:  # type: ignore[no-untyped-def]
    return [run.version.version_hash.encode(), run.dataset.sha256.encode(), run.project.name.encode()]


def test_every_route_is_known_and_covered(finished_run):
    urls = concrete_urls(finished_run)
    assert any("/score" in u for u in urls) and any(u.startswith("/runs/") for u in urls)
    assert len(urls) >= 25


def test_no_route_gives_a_member_of_another_project_anything(finished_run, outsider, client):
    from audit.models import AuditEvent

    client.force_login(outsider)
    key = api_key(outsider)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    downloads_before = AuditEvent.objects.filter(action="deliverable.download").count()
    for url in concrete_urls(finished_run):
        caller = api if url.startswith("/api/") else client
        for method in ("get", "post"):
            response = (
                getattr(caller, method)(url, format="json") if caller is api else getattr(caller, method)(url)
            )
            where = f"{method.upper()} {url} gave {response.status_code}"
            if "?" in url:  # a list: it may answer, but with nothing of the other project
                assert response.status_code in (200, 302, 400, 405), where
            else:
                assert response.status_code in (404, 405), where
            body = response.content
            for secret in secrets_of(finished_run):
                assert secret not in body, f"{where} and leaked {secret!r}"
    # Nothing was downloaded, scored or changed on the outsider's behalf.
    assert AuditEvent.objects.filter(action="deliverable.download").count() == downloads_before
    assert not AuditEvent.objects.filter(actor=outsider, project=finished_run.project).exists()
    finished_run.refresh_from_db()
    assert finished_run.status == "succeeded"


def test_no_route_gives_a_stranger_anything(finished_run, client):
    for url in concrete_urls(finished_run):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            where = f"{method.upper()} {url} gave {response.status_code}"
            if url.startswith("/api/"):
                assert response.status_code in (401, 405), where
            else:
                assert response.status_code in (302, 405), where
                if response.status_code == 302:
                    assert response["Location"].startswith("/accounts/login/"), where
            for secret in secrets_of(finished_run):
                assert secret not in response.content, where
