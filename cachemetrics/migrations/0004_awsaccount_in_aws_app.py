"""The accounts' model moved to the aws app (same table): only Django's state changes."""

import django.db.models.deletion
from django.db import migrations, models


def _account(on_delete, related_name):
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=on_delete,
        related_name=related_name,
        to="aws.awsaccount",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aws", "0001_initial"),
        ("cachemetrics", "0003_drop_time_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="collection",
                    name="account",
                    field=_account(django.db.models.deletion.SET_NULL, "collections"),
                ),
                migrations.AlterField(
                    model_name="daxcluster",
                    name="account",
                    field=_account(django.db.models.deletion.CASCADE, "dax_clusters"),
                ),
                migrations.AlterField(
                    model_name="cachedtable",
                    name="account",
                    field=_account(django.db.models.deletion.CASCADE, "cached_tables"),
                ),
            ],
            database_operations=[],
        )
    ]
