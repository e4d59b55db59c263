"""A drift check alerts: a portal notification for every member, an e-mail through a real SMTP server
process (aiosmtpd), and a webhook signed with HMAC to a real HTTP server; rate-limited and audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import mailbox
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from monitoring.alerts import SIGNATURE_HEADER, webhook_secret_set
from monitoring.models import Alert, AlertSettings, Notification
from monitoring.services import monitoring_check
from tests.monitoring.helpers import current_upload

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path) -> Iterator[tuple[int, Path]]:  # type: ignore[no-untyped-def]
    """aiosmtpd in its own process, storing what it receives in a maildir."""
    port, maildir = free_port(), tmp_path / "maildir"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, maildir
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def drifted_dataset(finished_run, consultant):  # type: ignore[no-untyped-def]
    from monitoring.services import current_dataset_upload

    spread = pd.to_numeric(finished_run.dataset.read_table()["avg_basket"], errors="coerce").std()
    upload = current_upload(finished_run, shift=2 * spread)
    return current_dataset_upload(
        version=finished_run.version, name="customers.csv", content=upload.read(), user=consultant
    )


def test_a_drift_check_notifies_members_mails_and_calls_the_signed_webhook_once(
    finished_run, consultant, reviewer, login, settings, smtp_server, webhook_receiver
):
    port, maildir = smtp_server
    url, received = webhook_receiver
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    row = AlertSettings.objects.create(
        project=finished_run.project, level="drift", emails=["analytics@client.example"], webhook_url=url
    )
    secret = webhook_secret_set(row)

    check = monitoring_check(
        version=finished_run.version, dataset=drifted_dataset(finished_run, consultant), user=consultant
    )
    assert check.overall_level == "drift"
    assert sorted(Alert.objects.values_list("channel", "status")) == [
        ("email", "sent"),
        ("portal", "sent"),
        ("webhook", "sent"),
    ]

    messages = list(mailbox.Maildir(maildir))
    assert len(messages) == 1 and messages[0]["To"] == "analytics@client.example"
    assert "drift" in messages[0]["Subject"] and "avg_basket" in messages[0].get_payload()

    ((headers, body),) = received
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert json.loads(body)["overall_level"] == "drift" and json.loads(body)["check"] == check.pk

    page = login(reviewer).get(reverse("monitoring:notifications")).content.decode()
    assert "v1" in page and "avg_basket" in page
    assert Notification.objects.filter(user=reviewer).count() == 1
    assert AuditEvent.objects.filter(action="monitoring.alert").count() == 3

    # A second drift within the interval: recorded as suppressed, nothing sent again.
    monitoring_check(
        version=finished_run.version, dataset=drifted_dataset(finished_run, consultant), user=consultant
    )
    assert Alert.objects.filter(status="suppressed").count() == 3
    assert len(list(mailbox.Maildir(maildir))) == 1 and len(received) == 1


def test_no_drift_alerts_no_one_and_a_dead_webhook_is_recorded_not_raised(finished_run, consultant, settings):
    AlertSettings.objects.create(
        project=finished_run.project, level="drift", webhook_url=f"http://127.0.0.1:{free_port()}/"
    )
    quiet = current_upload(finished_run)
    from monitoring.services import current_dataset_upload

    dataset = current_dataset_upload(
        version=finished_run.version, name="customers.csv", content=quiet.read(), user=consultant
    )
    check = monitoring_check(version=finished_run.version, dataset=dataset, user=consultant)
    assert check.overall_level in ("none", "warning") and not Alert.objects.exists()

    check = monitoring_check(
        version=finished_run.version, dataset=drifted_dataset(finished_run, consultant), user=consultant
    )
    webhook = Alert.objects.get(channel="webhook")
    assert webhook.status == "failed" and "could not be reached" in webhook.detail
    assert check.pk  # the check is kept whatever a channel did
