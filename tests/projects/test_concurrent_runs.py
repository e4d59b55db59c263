"""Runs finishing at the same time in one project each get their own version number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tests.conftest import need
from tests.projects.helpers import NUMERIC, upload_csv

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RUNS = 6


def test_concurrent_runs_all_succeed_with_distinct_gap_free_version_numbers(project, consultant):
    # SQLite serialises every writer, so the race this guards against needs PostgreSQL.
    need(connection.vendor == "postgresql", "PostgreSQL (DATABASE_URL)")
    from governance.models import SegmentVersion
    from projects.models import SegmentationRun
    from runs import services as run_services

    raw, _ = upload_csv(120, seed=3)
    dataset = run_services.dataset_upload(
        project=project, name="c.csv", content=raw, id_column="customer_id", user=consultant
    )
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 3}
    runs = [
        run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
        for _ in range(RUNS)
    ]
    start = threading.Barrier(RUNS)
    errors: list[BaseException] = []

    def execute(run_id: int) -> None:
        try:
            start.wait()
            run_services.run_execute(run_id=run_id)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=execute, args=(run.pk,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not errors
    finished = {r.pk: (r.status, r.error) for r in SegmentationRun.objects.all()}
    assert all(status == "succeeded" for status, _ in finished.values()), finished
    numbers = sorted(SegmentVersion.objects.filter(project=project).values_list("number", flat=True))
    assert numbers == list(range(1, RUNS + 1))
    # Each version is parented on the one before it: the chain has no fork.
    versions = {v.number: v for v in SegmentVersion.objects.filter(project=project)}
    assert [versions[n].parent_id for n in range(2, RUNS + 1)] == [versions[n].pk for n in range(1, RUNS)]
