"""A broker that is down does not lose a run: it is queued, kept, and sent when the broker is back."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from projects.models import SegmentationRun
from runs import outbox
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens there; the shared Redis is never stopped


@pytest.fixture
def broker():  # type: ignore[no-untyped-def]
    """Point the Celery app at another broker (and queue) for the test, and back afterwards."""
    from segplatform.celery import app

    saved = (app.conf.broker_url, app.conf.task_default_queue)

    def point(url: str, queue: str | None = None) -> None:
        app.conf.broker_url = url
        app.conf.task_default_queue = queue or saved[1]
        # Drop the pooled connections to the previous broker, as Celery itself does after a fork.
        app._pool = None
        app.amqp._producer_pool = None

    yield point
    point(saved[0], saved[1])


def _start_run(project, consultant, api):  # type: ignore[no-untyped-def]
    from runs import services as run_services

    raw, _ = upload_csv(60)
    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="customer_id", user=consultant
    )
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    return api(consultant).post(
        "/api/v1/runs/", {"project": project.pk, "dataset": dataset.pk, "spec": spec}, format="json"
    )


WAITING = "Queued - waiting for the message broker; it will start when the broker is back"


def _portal_says_waiting(login, consultant, run) -> tuple[bool, bool]:  # type: ignore[no-untyped-def]
    """Whether the run page and the project page's run list tell the user it waits for the broker."""
    from django.urls import reverse

    client = login(consultant)
    pages = (reverse("runs:run_detail", args=[run.pk]), reverse("runs:project", args=[run.project_id]))
    found = []
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found.append(WAITING in response.content.decode())
    return found[0], found[1]


def test_a_run_started_while_the_broker_is_down_is_queued_and_sent_when_it_is_back(
    project, consultant, api, broker, login, settings
):
    from segplatform.celery import app

    live_broker = app.conf.broker_url
    broker(DEAD_BROKER)
    # The send gives up after one retry (settings' fail-fast broker options) instead of hanging.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] == 1
    response = _start_run(project, consultant, api)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    assert response.json()["awaiting_dispatch"] is True
    run = SegmentationRun.objects.get()
    assert (run.status, run.awaiting_dispatch, run.celery_task_id) == ("queued", True, "")
    assert AuditEvent.objects.filter(action="run.start").count() == 1
    assert api(consultant).get(f"/api/v1/runs/{run.pk}/").json()["awaiting_dispatch"] is True
    assert _portal_says_waiting(login, consultant, run) == (True, True)

    # Still down: the dispatcher sends nothing and says so.
    assert outbox.runs_dispatch() == (0, 1)
    with pytest.raises(CommandError, match="1 run"):
        call_command("dispatch_runs")

    # Back: the command sends it, onto a queue of the test's own so no other worker takes it.
    queue = f"segplatform-test-{uuid.uuid4().hex[:8]}"
    broker(live_broker, queue)
    call_command("dispatch_runs")
    run.refresh_from_db()
    assert run.celery_task_id and not run.awaiting_dispatch
    assert outbox.runs_dispatch() == (0, 0)
    assert api(consultant).get(f"/api/v1/runs/{run.pk}/").json()["awaiting_dispatch"] is False
    assert _portal_says_waiting(login, consultant, run) == (False, False)  # queued, for a worker now
    with app.connection_for_write() as connection:
        assert connection.default_channel.queue_purge(queue) == 1  # the one message, removed


@pytest.mark.slow
def test_a_worker_finishes_a_run_that_waited_for_the_broker(celery_worker, project, consultant, api, broker):
    from segplatform.celery import app

    live_broker = app.conf.broker_url
    broker(DEAD_BROKER)
    response = _start_run(project, consultant, api)
    assert response.status_code == 201, response.content
    broker(live_broker)  # the worker's own queue, which the celery_worker fixture set
    assert outbox.runs_dispatch() == (1, 0)
    deadline = time.monotonic() + 120
    run = SegmentationRun.objects.get()
    while not run.is_finished and time.monotonic() < deadline:
        time.sleep(0.3)
        run.refresh_from_db()
    assert run.status == "succeeded", run.error
