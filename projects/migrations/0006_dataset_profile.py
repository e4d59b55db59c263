from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_run_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataset",
            name="profile",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The table as the upload read it: each column's kind, missing share, distinct "
                "values, examples and suggested role, and whether it is a customer table or an event log.",
            ),
        ),
    ]
