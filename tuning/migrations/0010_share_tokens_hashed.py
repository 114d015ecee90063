"""Share links kept their token in clear: anyone reading the database or a backup could open
them. Store a SHA-256 of it instead (and its first characters, to tell links apart); existing
links keep working, as their URL hashes to the stored value. Nothing else changes: links
without an expiry keep none."""

import hashlib
import secrets

from django.db import migrations, models

PREFIX_CHARS = 6


def hash_tokens(apps, schema_editor):
    ShareLink = apps.get_model("tuning", "ShareLink")
    for link in ShareLink.objects.only("token").iterator():
        ShareLink.objects.filter(pk=link.pk).update(
            token_hash=hashlib.sha256(link.token.encode()).hexdigest(),
            prefix=link.token[:PREFIX_CHARS],
        )


def new_tokens(apps, schema_editor):
    """Backwards: a hash cannot give the token back, so every link gets a new random one
    (the old URLs stop working)."""
    ShareLink = apps.get_model("tuning", "ShareLink")
    for link in ShareLink.objects.only("pk").iterator():
        ShareLink.objects.filter(pk=link.pk).update(token=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [("tuning", "0009_apply_is_a_task")]

    operations = [
        migrations.AddField(
            model_name="sharelink",
            name="token_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="sharelink",
            name="prefix",
            field=models.CharField(
                default="",
                editable=False,
                help_text="First characters, to tell links apart.",
                max_length=8,
            ),
            preserve_default=False,
        ),
        # The old column loses its uniqueness first: going backwards, it is filled row by row.
        migrations.AlterField(
            model_name="sharelink",
            name="token",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(hash_tokens, new_tokens),
        migrations.RemoveField(model_name="sharelink", name="token"),
        migrations.AlterField(
            model_name="sharelink",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
