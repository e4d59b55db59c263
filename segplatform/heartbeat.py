"""A worker's heartbeat for a long job: a thread that writes "still alive" until the job ends, so a
reaper can tell a busy worker from a dead one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


@contextmanager
def beating(beat: Callable[[], object], *, interval: float, name: str) -> Iterator[None]:
    """Call ``beat`` every ``interval`` seconds from a thread while the block runs.

    The thread has its own database connection; a beat that fails (a lock held by the job's own
    transaction) is skipped, the next one comes soon enough. Left after the job's transaction
    ends, so the thread never waits on a lock its own job holds.
    """
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.wait(interval):
                try:
                    beat()
                except DatabaseError:
                    logger.debug("heartbeat of %s skipped", name, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name=f"{name}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
