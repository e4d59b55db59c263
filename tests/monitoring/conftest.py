"""Fixtures of the monitoring tests: a deployed version, a project administrator, and a client's
own PostgreSQL database holding current customers."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest
from django.db import connection

from governance.deployment import version_deploy
from governance.lifecycle import version_transition
from projects.models import Membership
from projects.services import membership_add
from tests.api.conftest import api  # noqa: F401  (shared fixtures)
from tests.monitoring.helpers import current_upload
from tests.projects.conftest import finished_run, login  # noqa: F401


@pytest.fixture
def client_database(finished_run) -> Iterator[str]:  # type: ignore[no-untyped-def]  # noqa: F811
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
def deployed(finished_run, consultant, reviewer):  # type: ignore[no-untyped-def]  # noqa: F811
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
