from __future__ import annotations

import pytest

from governance.lifecycle import version_transition
from tests.projects.conftest import login, quick_run  # noqa: F401  (shared fixtures)


@pytest.fixture
def approved(quick_run, consultant, reviewer):  # type: ignore[no-untyped-def]  # noqa: F811
    """The quick run's version, submitted by its consultant and approved by the reviewer."""
    version = quick_run.version
    version_transition(version=version, action="submit", user=consultant, reason="")
    version_transition(
        version=version, action="approve", user=reviewer, reason="ok", override_reason="checked"
    )
    return version
