"""AuditEvent now belongs to the audit app; the table stays (state only, no SQL)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0006_dp_releases'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='AuditEvent')],
        ),
    ]
