from django.db import migrations, models

from tuning import search


def create_search_indexes(apps, schema_editor):
    search.create_indexes(schema_editor, apps.get_model("tuning", "TuningRun"))


def drop_search_indexes(apps, schema_editor):
    search.drop_indexes(schema_editor, apps.get_model("tuning", "TuningRun"))


class Migration(migrations.Migration):
    dependencies = [("tuning", "0011_restore_duration")]

    operations = [
        migrations.AddIndex(
            model_name="tuningrun",
            index=models.Index(fields=["-created_at", "-id"], name="run_history_order"),
        ),
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
