"""The OpenAPI 3 description: valid, served with its docs from the platform, and true to the API."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from tests.conftest import PASSWORD, api_key


@pytest.mark.django_db
def test_the_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn turns any schema the generator had to guess at into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    assert text.startswith("openapi: 3.")
    assert "/api/v1/versions/{id}/score:" in text


@pytest.mark.django_db
def test_the_interactive_docs_use_no_cdn_and_no_inline_script(client, consultant):
    client.login(username=consultant.username, password=PASSWORD)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # every script is a file: the CSP forbids inline ones
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    assert client.get("/api/schema/").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_never_answers_with_a_server_error(live_server, finished_run, consultant, mode):
    """Fuzz every operation of the live schema (a bounded number of cases each): no 500s."""
    key = api_key(consultant)
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json", headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    statuses: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case):  # type: ignore[no-untyped-def]
            response = case.call(base_url=live_server.url, headers=headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
                )

        fuzz()
    assert not failures, "\n".join(failures[:10])
    assert len(statuses) >= len(operations)  # every operation was really called
    print(mode, len(statuses), sorted(set(statuses)))
