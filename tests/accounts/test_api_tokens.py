"""API tokens: only a digest is stored, the key is shown once, users name, list and revoke theirs."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def create(client, name):  # type: ignore[no-untyped-def]
    assert client.post("/accounts/api-token/", {"action": "create", "name": name}).status_code == 302
    return client.get("/accounts/api-token/").context["token"].key


def calls(key: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api.get("/api/v1/projects/").status_code


def test_only_a_digest_is_stored_and_the_key_is_shown_once(consultant):
    client = Client()
    client.force_login(consultant)
    key = create(client, "nightly scoring")
    assert calls(key) == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(cell) for row in cursor.fetchall() for cell in row)
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert key not in stored
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    # The next visit lists the token by name and prefix, never the key again.
    page = client.get("/accounts/api-token/").content.decode()
    assert key not in page and "nightly scoring" in page and key[:8] in page


def test_users_name_list_and_revoke_their_tokens(consultant, outsider):
    client = Client()
    client.force_login(consultant)
    scoring = create(client, "scoring")
    reports = create(client, "reports")
    page = client.get("/accounts/api-token/").content.decode()
    assert "scoring" in page and "reports" in page
    token = ApiToken.objects.get(user=consultant, name="scoring")
    # Someone else's token cannot be revoked, and is not even acknowledged.
    other = Client()
    other.force_login(outsider)
    refused = other.post("/accounts/api-token/", {"action": "revoke", "token": token.pk}, follow=True)
    assert "no such token" in refused.content.decode()
    assert calls(scoring) == 200
    client.post("/accounts/api-token/", {"action": "revoke", "token": token.pk})
    assert calls(scoring) == 401
    assert calls(reports) == 200
    assert AuditEvent.objects.filter(action="auth.api_token_revoke", actor=consultant).count() == 1
    assert ApiToken.objects.get(user=consultant, name="reports").last_used_at is not None


def test_a_name_in_use_replaces_that_token(consultant):
    client = Client()
    client.force_login(consultant)
    first = create(client, "ci")
    second = create(client, "ci")
    assert calls(first) == 401 and calls(second) == 200
    assert ApiToken.objects.filter(user=consultant).count() == 1


def test_a_too_long_name_is_refused_with_a_message(consultant):
    client = Client()
    client.force_login(consultant)
    page = client.post("/accounts/api-token/", {"action": "create", "name": "x" * 101})
    assert page.status_code == 200 and "at most 100 characters" in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_clear_tokens_into_digests(django_user_model):
    from django.db.migrations.executor import MigrationExecutor

    from accounts.services import api_token_user

    before = [("accounts", "0003_api_token")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state([*before, ("authtoken", "0004_alter_tokenproxy_options")]).apps
    user = django_user_model.objects.create_user("legacy", password="a long and uncommon passphrase")
    key = old_apps.get_model("authtoken", "Token").objects.create(key="a" * 40, user_id=user.pk).key
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    found = api_token_user(key)
    assert found is not None and found[0] == user
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
