from tests.api.conftest import api  # noqa: F401  (shared fixtures)
from tests.projects.conftest import finished_run, login  # noqa: F401
