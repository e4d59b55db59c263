"""Each audit event records which hash it carries (audit.chain): 1 for every event before now.

SQLite adds the column by rebuilding the table, which drops its triggers: they are created again
here (the SQL frozen as governance/0002 wrote it). PostgreSQL adds the column in place, triggers
and all.
"""

from django.db import migrations, models

TABLE = "governance_auditevent"


def _sqlite_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for operation in ("UPDATE", "DELETE"):
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{operation.lower()} BEFORE {operation} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} rows are immutable: {operation} refused'); END"
        )


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        # Undone last when migrating back: the column's removal rebuilds the table too.
        migrations.RunPython(migrations.RunPython.noop, _sqlite_guards),
        migrations.AddField(
            model_name="auditevent",
            name="scheme",
            field=models.PositiveSmallIntegerField(default=1, editable=False),
        ),
        migrations.RunPython(_sqlite_guards, migrations.RunPython.noop),
    ]
