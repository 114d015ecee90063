"""The accounts' model moved to the aws app (same table): only Django's state changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("aws", "0001_initial"),
        ("cachemetrics", "0004_awsaccount_in_aws_app"),
        ("tuning", "0002_sweep_engine_state"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="tuningrun",
                    name="account",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="aws.awsaccount",
                    ),
                ),
                migrations.DeleteModel(name="AwsAccount"),
            ],
            database_operations=[],
        )
    ]
