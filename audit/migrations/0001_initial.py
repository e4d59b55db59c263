"""The audit trail moved here from governance: its table and rows stay as they were (state only)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('projects', '0001_initial'),
        ('governance', '0006_dp_releases'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False)),
                        ('actor_name', models.CharField(blank=True, help_text='The username at the time.', max_length=150)),
                        ('action', models.CharField(db_index=True, max_length=60)),
                        ('object_type', models.CharField(blank=True, max_length=60)),
                        ('object_id', models.CharField(blank=True, max_length=64)),
                        ('details', models.JSONField(blank=True, default=dict)),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True)),
                        ('previous_hash', models.CharField(max_length=64)),
                        ('hash', models.CharField(max_length=64, unique=True)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='projects.project')),
                    ],
                    options={
                        'db_table': 'governance_auditevent',
                        'ordering': ['-id'],
                    },
                ),
            ],
        ),
    ]
