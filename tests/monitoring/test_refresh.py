"""A lineage refreshed from a real PostgreSQL table: monitored, and on drift a retraining draft waits.

The client's database is a database of its own on this machine's PostgreSQL server, written by a
separate connection, as a client's warehouse would be; the platform reads it through the stored,
encrypted URL in a read-only transaction.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from governance.deployment import deployed_version, version_deploy
from governance.lifecycle import version_status, version_transition
from monitoring.models import DataSource, MonitoringCheck
from monitoring.refresh import lineage_refresh, lineage_source_set
from monitoring.sources import checked_query
from monitoring.tasks import refresh_lineage
from projects.models import Membership
from projects.services import membership_add
from runs.services import run_execute
from segplatform.errors import ApplicationError
from tests.monitoring.test_monitoring_page import current_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_database(finished_run) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database of the client's with a ``customers`` table of the run's customers, avg_basket shifted."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL data source needs DATABASE_URL to name a PostgreSQL server")
    info = connection.settings_dict
    server = f"postgresql://{info.get('USER') or 'postgres'}@{info.get('HOST') or '127.0.0.1'}:{info.get('PORT') or 5432}"
    name = f"client_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    frame = pd.read_csv(io.BytesIO(current_upload(finished_run, shift=60.0).read()))
    with psycopg.connect(f"{server}/{name}", autocommit=True) as client:
        numeric = set(frame.select_dtypes("number").columns) - {"customer_id"}
        columns = ", ".join(
            f'"{c}" DOUBLE PRECISION' if c in numeric else f'"{c}" TEXT' for c in frame.columns
        )
        client.execute(f"CREATE TABLE customers ({columns})")
        with client.cursor().copy(
            f"COPY customers ({', '.join(chr(34) + c + chr(34) for c in frame.columns)}) FROM STDIN"
        ) as copy:
            for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
                copy.write_row([None if v is None else str(v) for v in row])
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def deployed(finished_run, consultant, reviewer):  # type: ignore[no-untyped-def]
    version = finished_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="ok", override_reason="checked"
    )
    version_deploy(version=version, user=reviewer)
    return version


@pytest.fixture
def admin(project, make_user):  # type: ignore[no-untyped-def]
    user = make_user("ada")
    membership_add(project=project, user=user, role=Membership.Role.ADMIN)
    return user


def test_a_refresh_from_postgresql_monitors_the_deployed_version_and_leaves_a_retraining_draft(
    deployed, admin, consultant, login, client_database
):
    page = login(admin).post(
        reverse("monitoring:lineage_source", args=[deployed.pk]),
        {"url": client_database, "table": "public.customers", "query": ""},
    )
    assert page.status_code == 302
    source = DataSource.objects.get()
    assert source.lineage == "customers" and client_database not in source.url_encrypted
    page = login(admin).get(reverse("monitoring:version_monitoring", args=[deployed.pk])).content.decode()
    assert 'id="source"' in page and client_database not in page

    client = login(consultant)
    client.post(reverse("monitoring:lineage_refresh", args=[deployed.pk]))
    check = MonitoringCheck.objects.get()
    assert check.version == deployed and check.overall_level == "drift"
    assert {f["feature"]: f["level"] for f in check.result["features"]}["avg_basket"] == "drift"
    assert check.result["migration"]["customers_in_both"] > 0  # the same customers, pseudonyms matched
    assert check.retraining_run is not None

    retrained = run_execute(run_id=check.retraining_run.pk).version  # as the worker would
    assert version_status(retrained) == "draft" and retrained.parent == deployed
    assert (
        deployed_version(project=deployed.project, lineage="customers") == deployed
    )  # nothing deployed by itself
    page = client.get(reverse("monitoring:version_monitoring", args=[deployed.pk])).content.decode()
    assert 'id="retraining"' in page
    assert AuditEvent.objects.filter(action="lineage.refresh").count() == 1
    assert AuditEvent.objects.get(action="lineage.source_set").details == {
        "lineage": "customers",
        "table": "public.customers",
        "query": False,
    }


def test_a_consultant_cannot_set_a_source_and_the_api_and_the_scheduler_refresh(
    deployed, admin, consultant, login, api, client_database
):
    response = login(consultant).post(
        reverse("monitoring:lineage_source", args=[deployed.pk]),
        {"url": client_database, "table": "customers"},
    )
    assert response.status_code == 403 and not DataSource.objects.exists()
    source = lineage_source_set(
        project=deployed.project,
        lineage="customers",
        url=client_database,
        table="",
        query="SELECT * FROM customers",
        user=admin,
    )
    refreshed = api(consultant).post(
        "/api/v1/checks/refresh/", {"project": deployed.project.pk, "lineage": "customers"}, format="json"
    )
    assert refreshed.status_code == 201, refreshed.content
    assert refreshed.json()["overall_level"] == "drift" and refreshed.json()["retraining_run"] is not None
    assert (
        refresh_lineage(source.pk) == MonitoringCheck.objects.latest("id").pk
    )  # beat's task, run in-process


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("DELETE FROM customers", "must be a SELECT that only reads"),
        ("SELECT 1; DROP TABLE customers", "one SELECT statement"),
        ("SELEC * FROM", "cannot be read"),
    ],
)
def test_a_query_that_could_write_or_chain_is_refused(query, message):
    with pytest.raises(ApplicationError, match=message):
        checked_query(query)


def test_a_hostile_table_name_is_an_identifier_not_sql(deployed, admin, client_database):
    lineage_source_set(
        project=deployed.project,
        lineage="customers",
        url=client_database,
        table="customers; DROP TABLE customers",
        query="",
        user=admin,
    )
    with pytest.raises(ApplicationError, match="could not be read"):
        lineage_refresh(project=deployed.project, lineage="customers")
    with psycopg.connect(client_database) as client:  # the table is still there
        assert client.execute("SELECT count(*) FROM customers").fetchone()[0] > 0


def test_a_refresh_without_a_deployed_version_says_what_to_do(finished_run):
    with pytest.raises(
        ApplicationError, match="no version is deployed for 'customers': deploy an approved version first"
    ):
        lineage_refresh(project=finished_run.project, lineage="customers")
