"""``manage.py flush``, able to empty append-only tables on SQLite.

Emptying the whole database (a development reset, or a test's teardown) is the one wipe the
history guards allow: PostgreSQL flushes with ``TRUNCATE``, which row triggers do not see, but
SQLite deletes row by row, so the guards are lifted for the flush and restored afterwards.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from governance.triggers import sqlite_guards_create, sqlite_guards_drop


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with connection.cursor() as cursor:
            sqlite_guards_drop(cursor)
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                sqlite_guards_create(cursor)
