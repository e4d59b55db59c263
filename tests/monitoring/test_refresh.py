"""A lineage refreshed from a real PostgreSQL table: monitored, and on drift a retraining draft waits.

The client's database is a database of its own on this machine's PostgreSQL server, written by a
separate connection, as a client's warehouse would be; the platform reads it through the stored,
encrypted URL in a read-only transaction.
"""

from __future__ import annotations

import psycopg
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from governance.deployment import deployed_version
from governance.lifecycle import version_status
from monitoring.models import DataSource, MonitoringCheck, Refresh
from monitoring.refresh import lineage_refresh, lineage_source_set
from monitoring.refresh_jobs import refresh_execute
from monitoring.sources import checked_query
from monitoring.tasks import refresh_lineage
from runs.services import run_execute
from segplatform.errors import ApplicationError

pytestmark = pytest.mark.django_db


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
    refresh = Refresh.objects.get()
    assert (refresh.status, refresh.trigger, refresh.requested_by) == ("queued", "portal", consultant)
    page = client.get(reverse("monitoring:version_monitoring", args=[deployed.pk])).content.decode()
    assert 'data-status="queued"' in page and "A refresh is queued" in page
    # A second press while it waits shares the same refresh.
    again = client.post(reverse("monitoring:lineage_refresh", args=[deployed.pk]), follow=True)
    assert "it was not started twice" in again.content.decode() and Refresh.objects.count() == 1

    refresh = refresh_execute(refresh.pk)  # as the worker would
    assert refresh is not None and refresh.status == "done"
    assert refresh_execute(refresh.pk) is None  # a redelivered message does nothing twice
    check = MonitoringCheck.objects.get()
    assert refresh.monitoring_check == check
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
    assert refreshed.status_code == 202, refreshed.content
    assert (refreshed.json()["status"], refreshed.json()["trigger"]) == ("queued", "api")
    again = api(consultant).post(
        "/api/v1/checks/refresh/", {"project": deployed.project.pk, "lineage": "customers"}, format="json"
    )
    assert again.status_code == 200 and again.json()["id"] == refreshed.json()["id"]
    refresh_execute(refreshed.json()["id"])  # as the worker would
    shown = api(consultant).get(f"/api/v1/refreshes/{refreshed.json()['id']}/").json()
    assert shown["status"] == "done" and shown["monitoring_check"] == MonitoringCheck.objects.get().pk
    assert (
        api(consultant).get(f"/api/v1/checks/{shown['monitoring_check']}/").json()["overall_level"] == "drift"
    )

    scheduled = refresh_lineage(source.pk)  # beat's task, run in-process
    assert Refresh.objects.get(pk=scheduled).trigger == "schedule"
    assert Refresh.objects.get(pk=scheduled).monitoring_check == MonitoringCheck.objects.latest("id")


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
