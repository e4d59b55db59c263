"""Shared fixtures: named users in their roles, a project, and a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def _hand_this_test_process_its_own_files_and_broker() -> None:
    """Every process a test starts (a worker, ``manage.py``) uses this test process's VAR_DIR and
    broker database, which the settings moved apart for pytest-xdist, and does not move them again."""
    from django.conf import settings

    if not settings.TEST_PROCESS:
        return
    os.environ["VAR_DIR"] = str(settings.VAR_DIR)
    if settings.REDIS_URL:
        os.environ["REDIS_URL"] = settings.REDIS_URL
    del os.environ["PYTEST_XDIST_WORKER"]


_hand_this_test_process_its_own_files_and_broker()


def services_required() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(condition: bool, what: str) -> None:
    """Skip a test whose service is absent, unless the run demands real services."""
    if condition:
        return
    if services_required():
        pytest.fail(f"REQUIRE_SERVICES=1 but {what} is not configured")
    pytest.skip(f"{what} is not configured")


@pytest.fixture(autouse=True)
def audit_checkpoints(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Each test's audit checkpoints in its own folder: its database is new, so are they."""
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"
    return settings.AUDIT_CHECKPOINT_DIR


def api_key(user) -> str:  # type: ignore[no-untyped-def]
    """A fresh API key for the user (tokens are stored as digests: the key exists only now)."""
    from accounts.services import api_token_create

    return api_token_create(user=user, name=f"tests {uuid.uuid4().hex[:8]}")[1]


@pytest.fixture(scope="session", autouse=True)
def plain_http() -> Iterator[None]:
    """The test client and the live server speak plain http: no redirect to https, no HSTS.

    Session-wide and first, so the live server's middleware (built once) sees it too. Cookies
    stay Secure as in production; tests/segplatform/test_deploy_check.py covers the https side.
    """
    from django.test.utils import override_settings

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        yield


@pytest.fixture
def make_user(django_user_model):  # type: ignore[no-untyped-def]
    def make(username: str):  # type: ignore[no-untyped-def]
        return django_user_model.objects.create_user(username=username, password=PASSWORD)

    return make


@pytest.fixture
def project(db, make_user):  # type: ignore[no-untyped-def]
    from projects import services

    owner = make_user("owner")
    return services.project_create(
        client=services.client_get_or_create(name="Acme Retail"), name="Loyalty 2026", user=owner
    )


@pytest.fixture
def consultant(project):  # type: ignore[no-untyped-def]
    """The project's creator in the consultant role (project_create makes a creator its administrator),
    so a test of what a consultant may not do tests a consultant."""
    from projects.models import Membership

    membership = project.memberships.get()
    membership.role = Membership.Role.CONSULTANT
    membership.save(update_fields=["role"])
    return membership.user


@pytest.fixture
def reviewer(project, make_user):  # type: ignore[no-untyped-def]
    from projects.models import Membership
    from projects.services import membership_add

    user = make_user("rita")
    membership_add(project=project, user=user, role=Membership.Role.REVIEWER)
    return user


@pytest.fixture
def outsider(db, make_user):  # type: ignore[no-untyped-def]
    """A member of another client's project only."""
    from projects import services

    user = make_user("oscar")
    services.project_create(
        client=services.client_get_or_create(name="Other Client"), name="Elsewhere", user=user
    )
    return user


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def start_worker(*, env: dict[str, str], log: Path, queue: str | None = None) -> subprocess.Popen:
    """Start a real Celery worker process and return once it reports ready."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "segplatform",
        "worker",
        "--pool=solo",
        "--concurrency=1",
    ]
    if queue:  # what the worker itself sends (a retraining run, a requeue) stays on its queue too
        command += ["-Q", queue]
        env = {**env, "CELERY_QUEUE": queue}
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat", "--loglevel=INFO"]
    with log.open("w") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while "ready." not in log.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"the Celery worker did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    return worker


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[subprocess.Popen]:  # type: ignore[no-untyped-def]
    """A real worker process on the configured broker, consuming a queue of its own.

    It reads the test database, so tests that use it need ``transactional_db``.
    """
    from django.db import connection

    from segplatform.celery import app

    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = queue
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "PYTHONUNBUFFERED": "1",
    }
    worker = start_worker(env=env, log=log, queue=queue)
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
    app.conf.task_default_queue = "celery"
