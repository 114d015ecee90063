from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tuning", "0020_dry_run"),
    ]

    operations = [
        migrations.AddField(
            model_name="tuningrun",
            name="payload_s3",
            field=models.CharField(
                blank=True,
                default="",
                help_text="s3://bucket/key; only the URI is stored",
                max_length=1100,
            ),
        ),
    ]
