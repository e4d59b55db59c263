"""A refresh under faults: two people asking at once, the broker down, the worker killed mid-refresh."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from monitoring.models import MonitoringCheck, Refresh
from monitoring.refresh import lineage_source_set
from monitoring.refresh_jobs import WORKER_LOST, refresh_request, refreshes_dispatch, refreshes_reap
from tests.api.test_broker_down import DEAD_BROKER, broker  # noqa: F401  (shared fixture)
from tests.conftest import _database_url, start_worker

pytestmark = pytest.mark.django_db(transaction=True)


def _source(deployed, admin, url: str, query: str = "") -> None:  # type: ignore[no-untyped-def]
    lineage_source_set(
        project=deployed.project,
        lineage="customers",
        url=url,
        table="" if query else "customers",
        query=query,
        user=admin,
    )


def test_two_people_asking_at_once_get_one_refresh(deployed, admin, consultant, client_database):
    _source(deployed, admin, client_database)
    start, answers, errors = threading.Barrier(2), [], []

    def ask(user) -> None:  # type: ignore[no-untyped-def]
        try:
            start.wait(timeout=10)
            answers.append(
                refresh_request(
                    project=deployed.project, lineage="customers", user=user, trigger="portal", send=False
                )
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(u,)) for u in (admin, consultant)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert Refresh.objects.count() == 1
    assert sorted(created for _, created in answers) == [False, True]
    assert {refresh.pk for refresh, _ in answers} == {Refresh.objects.get().pk}
    assert AuditEvent.objects.filter(action="lineage.refresh_requested").count() == 1


def test_a_refresh_asked_while_the_broker_is_down_waits_and_is_sent_when_it_is_back(
    deployed,
    admin,
    consultant,
    login,
    client_database,
    broker,  # noqa: F811
):
    _source(deployed, admin, client_database)
    broker(DEAD_BROKER)
    page = login(consultant).post(reverse("monitoring:lineage_refresh", args=[deployed.pk]), follow=True)
    assert page.status_code == 200 and "The refresh is queued" in page.content.decode()
    refresh = Refresh.objects.get()
    assert (refresh.status, refresh.awaiting_dispatch) == ("queued", True)
    assert refreshes_dispatch() == (0, 1)  # still down: kept

    from django.conf import settings

    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    broker(settings.CELERY_BROKER_URL, queue)
    assert refreshes_dispatch() == (1, 0)
    refresh.refresh_from_db()
    assert refresh.awaiting_dispatch is False and refresh.status == "queued"
    from segplatform.celery import app

    with app.connection_for_write() as conn:
        assert conn.default_channel.queue_purge(queue) == 1  # the broker holds it for a worker


def _wait(refresh: Refresh, leave: tuple[str, ...], log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while refresh.status in leave and time.monotonic() < deadline:
        time.sleep(0.1)
        refresh.refresh_from_db()
    assert refresh.status not in leave, (refresh.status, log.read_text()[-3000:])


@pytest.mark.slow
def test_a_refresh_whose_worker_is_killed_is_requeued_and_done_by_the_next_worker(
    deployed,
    admin,
    consultant,
    client_database,
    settings,
    tmp_path,
    broker,  # noqa: F811
):
    # The database takes a few seconds to answer, so the worker is surely mid-refresh when killed.
    _source(deployed, admin, client_database, query="SELECT c.* FROM customers AS c CROSS JOIN pg_sleep(4)")
    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    broker(settings.CELERY_BROKER_URL, queue)
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "PYTHONUNBUFFERED": "1"}
    workers: list[subprocess.Popen] = []
    try:
        workers.append(start_worker(env=env, log=tmp_path / "first.log", queue=queue))
        refresh, _ = refresh_request(
            project=deployed.project, lineage="customers", user=consultant, trigger="api"
        )
        _wait(refresh, ("queued",), tmp_path / "first.log")
        assert refresh.status == "running" and refreshes_reap() == 0  # a beating worker is left alone
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=20)

        settings.RUN_HEARTBEAT_TIMEOUT = 1
        time.sleep(1.5)
        assert refreshes_reap() == 1
        settings.RUN_HEARTBEAT_TIMEOUT = 120
        refresh.refresh_from_db()
        assert (refresh.status, refresh.attempts) == ("queued", 2)

        workers.append(start_worker(env=env, log=tmp_path / "second.log", queue=queue))
        _wait(refresh, ("queued", "running"), tmp_path / "second.log")
    finally:
        for worker in workers:  # killed: the retraining run it would start next is not this test's
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert refresh.status == "done", refresh.error
    assert refresh.monitoring_check == MonitoringCheck.objects.get()  # one check, not one per attempt
    retried = AuditEvent.objects.get(action="lineage.refresh_retried")
    assert retried.actor_name == "reaper" and retried.details["error"] == WORKER_LOST
