"""Drop the series index of the points and 15-minute rollups: their primary key (series, time)
already starts with the series, and the second index cost every inserted row another index
entry. Dropped by name rather than by AlterField, which rebuilds the whole table on SQLite."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "cachemetrics_metricpoint": "cachemetrics_metricpoint_series_id_1806c304",
    "cachemetrics_metricquarter": "cachemetrics_metricquarter_series_id_72d93fbe",
}


def _series_field(related_name):
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="cachemetrics.metricseries",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cachemetrics", "0007_metricquarter"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="metricpoint", name="series", field=_series_field("points")
                ),
                migrations.AlterField(
                    model_name="metricquarter", name="series", field=_series_field("quarters")
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("series_id")',
                )
                for table, index in INDEXES.items()
            ],
        ),
    ]
