"""Move DRF's clear-text tokens into digests, so programs keep working, and delete the clear copies."""

import hashlib

from django.db import migrations


def forwards(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in Token.objects.all():
        ApiToken.objects.create(
            user_id=token.user_id,
            name="API token",
            prefix=token.key[:8],
            digest=hashlib.sha256(token.key.encode()).hexdigest(),
            created_at=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    # Not reversible: the clear keys are gone by design.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
