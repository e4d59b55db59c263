"""`manage.py check --deploy` in a production-like environment has nothing to say about HTTPS."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HTTPS_WARNINGS = [
    "security.W004",
    "security.W005",
    "security.W008",
    "security.W012",
    "security.W016",
    "security.W021",
]
OVERRIDES = [
    "HTTPS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_COOKIES",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    # set by the browser tests' live server in this process; production never sets it
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {name: value for name, value in os.environ.items() if name not in OVERRIDES}
    base.update(
        {
            "VAR_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "segplatform.example.com",
            "DJANGO_SETTINGS_MODULE": "segplatform.settings",
        }
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_passes_the_deploy_check_on_https(tmp_path):
    result = manage(tmp_path, "check", "--deploy", DEBUG="0")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for warning in HTTPS_WARNINGS:
        assert warning not in output, output


def test_plain_http_for_make_run_turns_the_https_settings_off(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE)"
    )
    result = manage(tmp_path, "shell", "-c", code, DEBUG="0", HTTPS="0")
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "0", "False", "False"], result.stderr
    # And the check warns, as it should, about this deliberately plain-http setup.
    check = manage(tmp_path, "check", "--deploy", DEBUG="0", HTTPS="0")
    assert "security.W008" in check.stdout + check.stderr
