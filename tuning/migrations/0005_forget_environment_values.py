"""Runs used to store the function's whole configuration, environment variables (secrets)
included. Keep only what a run needs: its memory size, architecture, storage, code and ARN."""

from django.db import migrations

KEPT = ("FunctionArn", "Runtime", "MemorySize", "Architectures", "EphemeralStorage", "CodeSha256")


def forget(apps, schema_editor):
    TuningRun = apps.get_model("tuning", "TuningRun")
    for run in TuningRun.objects.exclude(original_config={}).only("original_config").iterator():
        config = run.original_config or {}
        kept = {key: value for key, value in config.items() if key in KEPT}
        if kept != config:
            run.original_config = kept
            run.save(update_fields=["original_config"])


class Migration(migrations.Migration):
    dependencies = [("tuning", "0004_analysis_for_every_finished_run")]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
