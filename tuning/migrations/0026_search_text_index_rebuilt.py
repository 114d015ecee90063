from django.db import migrations

from tuning import search


def rebuild_search_text_index(apps, schema_editor):
    search.rebuild_text_index(schema_editor, apps.get_model("tuning", "TuningRun"))


class Migration(migrations.Migration):
    """The search text is the same words written as one expression (``search.SEARCH_TEXT``):
    its trigram index must be built on the new expression for searches to use it."""

    dependencies = [("tuning", "0025_concurrency_slots_held_by_leases")]

    operations = [
        migrations.RunPython(rebuild_search_text_index, migrations.RunPython.noop, elidable=False),
    ]
