"""The database guards that make history append-only, for code that must lift them briefly.

The migrations create the same triggers (their SQL is frozen there); this module serves the
``flush`` command, which on SQLite empties tables with ``DELETE`` that the guards would refuse.
"""

from __future__ import annotations

from typing import Any

GUARDED_TABLES = ("governance_segmentversion", "governance_auditevent", "governance_versionstatuschange")


def sqlite_guards_drop(cursor: Any) -> None:
    for table in GUARDED_TABLES:
        for operation in ("update", "delete"):
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def sqlite_guards_create(cursor: Any) -> None:
    for table in GUARDED_TABLES:
        for operation in ("UPDATE", "DELETE"):
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable: {operation} refused'); END"
            )
