"""Every succeeded run gets the stored analysis pages, the API and the CLI read: imported Power
Tuning runs had none, and runs analysed before had no winners per balanced-slider position."""

from django.db import migrations

from tuning import analysis


def _recommendation(result):
    if result is None:
        return None
    return {
        "memory_mb": result.memory_mb,
        "avg_cost_usd": format(result.avg_cost_usd, "f"),
        "avg_duration_ms": result.avg_duration_ms,
    }


def analyse(apps, schema_editor):
    TuningRun = apps.get_model("tuning", "TuningRun")
    for run in TuningRun.objects.filter(status="SUCCEEDED").iterator():
        stored = run.analysis or {}
        if "recommendation" in stored and "balanced_by_weight" in stored:
            continue
        results = {r.memory_mb: r for r in run.results.all()}
        candidates = [
            analysis.Candidate(
                memory_mb=r.memory_mb,
                avg_cost_usd=r.avg_cost_usd,
                avg_duration_ms=r.avg_duration_ms,
                failed=r.status != "SUCCEEDED",
            )
            for r in results.values()
            if r.avg_cost_usd is not None and r.avg_duration_ms is not None
        ]
        if "recommendation" not in stored:
            picks = {
                strategy: analysis.recommend(candidates, strategy, run.balanced_weight)
                for strategy in analysis.STRATEGIES
            }
            stored["recommendation"] = {
                strategy: _recommendation(results[pick.memory_mb] if pick else None)
                for strategy, pick in picks.items()
            }
            stored["best"] = stored["recommendation"].get(run.strategy)
        stored["balanced_by_weight"] = analysis.balanced_by_weight(candidates)
        run.analysis = stored
        run.save(update_fields=["analysis"])


class Migration(migrations.Migration):
    dependencies = [("tuning", "0003_move_awsaccount_to_aws_app")]

    operations = [migrations.RunPython(analyse, migrations.RunPython.noop)]
