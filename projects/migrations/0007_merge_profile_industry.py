from django.db import migrations


class Migration(migrations.Migration):
    """The dataset's profile and the project's industry were added side by side after 0005."""

    dependencies = [
        ("projects", "0006_dataset_profile"),
        ("projects", "0006_project_industry"),
    ]

    operations: list[migrations.operations.base.Operation] = []
