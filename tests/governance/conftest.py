from __future__ import annotations

from tests.projects.conftest import finished_run, login  # noqa: F401  (shared fixtures)
