"""Headers, cookies, CSRF and upload limits that protect every page and API call."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, api_key

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/projects/", "/no-such-page/"])
def test_every_answer_carries_the_protective_headers(client, url):
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert (
        "script-src 'self';" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_and_csrf_cookies_are_secure_outside_debug(consultant, settings):
    assert settings.DEBUG is False
    client = Client()
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["secure"]
    response = client.post("/accounts/login/", {"username": consultant.username, "password": PASSWORD})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert session["samesite"] == "Lax"


def test_a_portal_form_without_its_csrf_token_is_refused(consultant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(consultant)
    response = client.post("/projects/new/", {"client": "Beta", "name": "Churn"})
    assert response.status_code == 403
    assert "Please send that form again" in response.content.decode()  # a friendly page, no jargon
    assert not consultant.projects.filter(name="Churn").exists()


def test_an_api_call_on_a_session_without_csrf_is_refused_in_the_api_format(consultant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(consultant)
    response = client.post("/api/v1/projects/", {"client": "Beta", "name": "Churn"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    # A token is not a cookie the browser sends by itself: it needs no CSRF token.
    key = api_key(consultant)
    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert (
        api.post("/api/v1/projects/", {"client": "Beta", "name": "Churn"}, format="json").status_code == 201
    )


def test_uploads_over_the_size_limit_are_refused_in_the_portal_and_the_api(project, consultant, settings):
    settings.MAX_UPLOAD_BYTES = 100
    content = b"customer_id,spend\n" + b"".join(b"C%d,%d\n" % (i, i) for i in range(40))
    client = Client()
    client.force_login(consultant)
    page = client.post(
        f"/projects/{project.pk}/datasets/upload/",
        {"file": SimpleUploadedFile("c.csv", content), "id_column": ""},
    )
    assert page.status_code == 200 and "larger than the 0 MB limit" in page.content.decode()
    key = api_key(consultant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api.post(
        "/api/v1/datasets/",
        {"project": project.pk, "file": SimpleUploadedFile("c.csv", content)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "limit" in response.json()["error"]["fields"]["file"][0]
    assert not project.datasets.exists()


def test_uploads_of_other_types_are_refused(project, consultant):
    client = Client()
    client.force_login(consultant)
    page = client.post(
        f"/projects/{project.pk}/datasets/upload/",
        {"file": SimpleUploadedFile("deck.pptx", b"PK\x03\x04binary"), "id_column": ""},
    )
    assert "is not a CSV file" in page.content.decode()
    assert not project.datasets.exists()
