from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.projects.helpers import NUMERIC, upload_csv


@pytest.fixture
def finished_run(project, consultant):  # type: ignore[no-untyped-def]
    """A run executed in-process through the same service the worker calls."""
    from runs import services as run_services

    raw, _ = upload_csv(300, seed=5)
    dataset = run_services.dataset_upload(
        project=project, name="customers.csv", content=raw, id_column="customer_id", user=consultant
    )
    spec = {"id_column": "customer_id", "numeric_columns": NUMERIC, "k_min": 2, "k_max": 4}
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    return run_services.run_execute(run_id=run.pk)


@pytest.fixture
def login(client):  # type: ignore[no-untyped-def]
    def as_user(user):  # type: ignore[no-untyped-def]
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return as_user


@pytest.fixture
def quick_run(project, consultant):  # type: ignore[no-untyped-def]
    """A small finished run (one algorithm, one k, no bootstrap): for tests about what happens to
    a version afterwards, not about the engine."""
    from runs import services as run_services

    raw, _ = upload_csv(200, seed=5)
    dataset = run_services.dataset_upload(
        project=project, name="customers.csv", content=raw, id_column="customer_id", user=consultant
    )
    spec = {
        "id_column": "customer_id",
        "numeric_columns": NUMERIC,
        "k_min": 3,
        "k_max": 3,
        "algorithms": ["kmeans"],
        "stability_resamples": 0,
    }
    run = run_services.run_start(project=project, dataset=dataset, spec=spec, user=consultant, enqueue=False)
    return run_services.run_execute(run_id=run.pk)
