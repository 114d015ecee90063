"""Beat tasks (queue ``metrics``): thin wrappers around the collector and the rollup."""

from celery import shared_task

from cachemetrics import collector, rollup


@shared_task(acks_late=True, ignore_result=True)
def collect_cache_metrics_task() -> dict:
    """Every 5 minutes: inventory + incremental metrics for every account and region."""
    collections = collector.collect_all()
    return {c.account_name + "/" + c.region: c.status for c in collections}


@shared_task(acks_late=True, ignore_result=True)
def rollup_cache_metrics_task() -> dict:
    """Hourly: roll complete hours up and apply retention (``rollup.purge``)."""
    written = rollup.rollup()
    purged = rollup.purge()
    return {"rollups_written": written, **{f"purged_{k}": v for k, v in purged.items()}}
