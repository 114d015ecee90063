"""AwsAccount moved here from the tuning app without moving its rows: the table keeps its name
(tuning_awsaccount), so this migration only tells Django's state where the model lives."""

import django.db.models
from django.db import migrations


def move_content_type(apps, schema_editor):
    """Permissions on accounts keep working: their content type now belongs to this app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="aws", model="awsaccount").exists():
        ContentType.objects.filter(app_label="tuning", model="awsaccount").update(app_label="aws")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="tuning", model="awsaccount").exists():
        ContentType.objects.filter(app_label="aws", model="awsaccount").update(app_label="tuning")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tuning", "0001_initial"),  # created the table
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AwsAccount",
                    fields=[
                        (
                            "id",
                            django.db.models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", django.db.models.CharField(max_length=100, unique=True)),
                        (
                            "account_id",
                            django.db.models.CharField(
                                blank=True, help_text="Filled in from STS.", max_length=12
                            ),
                        ),
                        (
                            "role_arn",
                            django.db.models.CharField(
                                blank=True,
                                help_text="Role to assume for cross-account access; empty = "
                                "the worker's own credentials.",
                                max_length=2048,
                            ),
                        ),
                        ("external_id", django.db.models.CharField(blank=True, max_length=1224)),
                        (
                            "default_region",
                            django.db.models.CharField(default="us-east-1", max_length=32),
                        ),
                        ("created_at", django.db.models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"ordering": ["name"], "db_table": "tuning_awsaccount"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
