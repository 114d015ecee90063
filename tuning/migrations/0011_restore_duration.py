from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tuning", "0010_share_tokens_hashed"),
    ]

    operations = [
        migrations.AddField(
            model_name="invocation",
            name="restore_duration_ms",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invocation",
            name="billed_restore_duration_ms",
            field=models.FloatField(blank=True, null=True),
        ),
    ]
