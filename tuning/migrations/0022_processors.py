from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tuning", "0021_payload_s3"),
    ]

    operations = [
        migrations.AddField(
            model_name="tuningrun",
            name="pre_processor",
            field=models.CharField(
                blank=True, help_text="Function invoked before each invocation.", max_length=2048
            ),
        ),
        migrations.AddField(
            model_name="tuningrun",
            name="post_processor",
            field=models.CharField(
                blank=True, help_text="Function invoked after each invocation.", max_length=2048
            ),
        ),
    ]
