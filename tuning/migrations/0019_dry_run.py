from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tuning", "0019_allowed_exceptions"),
    ]

    operations = [
        migrations.AddField(
            model_name="tuningrun",
            name="dry_run",
            field=models.BooleanField(
                default=False,
                help_text="One invocation per size that checks permissions and configuration: "
                "nothing measured, recommended or applied (Power Tuning's dryRun).",
            ),
        ),
    ]
