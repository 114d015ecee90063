"""Retention (dashboard/retention.py): old runs, collections, metric points and rollups and the
embedded broker's leftovers are deleted, daily and by `manage.py purge`; nothing that is still
in use or that the rollup rules keep."""

import io
import os
import time
from datetime import timedelta
from pathlib import Path
from queue import Empty

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu import Connection

from cachemetrics import catalog
from cachemetrics.models import Collection, DaxCluster, MetricPoint, MetricRollup, MetricSeries
from dashboard import broker, retention
from dashboard.celery import app
from dashboard.tasks import purge_expired_data_task
from tests.tuning.runfactory import make_run
from tuning import sharing
from tuning.models import Invocation, MemoryChange, Phase, RunStatus, ShareLink, TuningRun

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def days_ago(days: float):
    return timezone.now() - days * DAY


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


def old_finished_run(function="tuneboard-cpu", days=401):
    return make_run(function=function, sizes=(128, 512), num=3, created_at=days_ago(days))


@pytest.fixture
def metrics():
    """A DAX series with minutes and hourly rollups of various ages, and collections."""
    cluster = DaxCluster.objects.create(
        region="us-east-1", name="orders-cache", arn="arn:aws:dax:::cache/orders-cache"
    )
    series = MetricSeries.objects.create(
        key="hits",
        cluster=cluster,
        namespace=catalog.DAX_NAMESPACE,
        metric=catalog.ITEM_HITS,
        statistic=catalog.SUM,
    )
    for days in (16, 1):
        MetricPoint.objects.create(series=series, ts=days_ago(days), value=1.0)
    for days in (1000, 460, 420, 1):
        MetricRollup.objects.create(
            series=series, hour=days_ago(days), count=60, total=60.0, minimum=1.0, maximum=1.0
        )
    for days in (401, 1):
        Collection.objects.create(region="us-east-1", started_at=days_ago(days))
    return series


def rollup_ages() -> list[int]:
    hours = MetricRollup.objects.order_by("hour").values_list("hour", flat=True)
    return [round((timezone.now() - hour) / DAY) for hour in hours]


def test_old_finished_runs_go_with_their_invocations_and_all_that_hangs_off_them():
    old = old_finished_run()
    sharing.create_link(old, None)
    MemoryChange.objects.create(run=old, target="$LATEST", memory_mb=512, state="DONE")
    young = make_run(function="tuneboard-io", sizes=(128, 512), num=3, created_at=days_ago(399))

    output = purge()

    assert list(TuningRun.objects.all()) == [young]
    assert Invocation.objects.filter(run=young).count() == 6
    assert not Invocation.objects.filter(run_id=old.pk).exists()
    assert not ShareLink.objects.exists()
    assert not MemoryChange.objects.exists()
    assert "Retention: 400 days." in output
    assert "tuning runs: 1\n" in output
    assert "invocations: 6\n" in output


def test_old_runs_that_still_own_their_function_are_kept():
    queued = make_run(function="queued", status=RunStatus.PENDING, created_at=days_ago(500))
    running = make_run(function="running", status=RunStatus.RUNNING, created_at=days_ago(500))
    cleanup_left = make_run(function="left", status=RunStatus.RUNNING, created_at=days_ago(500))
    cleanup_left.claim_cleanup(from_phases=[Phase.PUBLISHING])
    assert cleanup_left.finish(RunStatus.FAILED, "publisher died", left="alias tb-1-128")
    applying = old_finished_run(function="applying", days=500)
    applying.claim_apply()
    MemoryChange.objects.create(run=applying, target="$LATEST", memory_mb=512)
    owners = {queued.pk, running.pk, cleanup_left.pk, applying.pk}
    assert all(TuningRun.objects.get(pk=pk).owns_function for pk in owners)
    old_finished_run(function="finished", days=500)

    purge()

    assert set(TuningRun.objects.values_list("pk", flat=True)) == owners
    assert MemoryChange.objects.filter(run=applying).exists()


def test_collections_go_after_the_retention_and_metrics_by_the_rollup_rules(metrics):
    purge()

    assert Collection.objects.get().started_at > days_ago(2)
    assert MetricPoint.objects.get().ts > days_ago(2)  # minutes are kept 15 days
    # Rollups are kept 15 months (456 days) even though the retention is 400 days.
    assert rollup_ages() == [420, 1]


def test_a_retention_longer_than_15_months_keeps_rollups_that_long(metrics):
    purge("--days", "500")

    assert rollup_ages() == [460, 420, 1]


def test_a_dry_run_deletes_nothing_and_counts_what_the_purge_deletes(metrics, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = broker_options(tmp_path)
    file_aged(tmp_path / "broken" / "1_a.sweeps.msg", days=2)
    old_finished_run()
    before = (TuningRun.objects.count(), Invocation.objects.count(), Collection.objects.count())

    dry = purge("--dry-run")

    assert (TuningRun.objects.count(), Invocation.objects.count(), Collection.objects.count()) == (
        before
    )
    assert MetricPoint.objects.count() == 2 and MetricRollup.objects.count() == 4
    assert (tmp_path / "broken" / "1_a.sweeps.msg").exists()
    counts = dry.split("Would delete (dry run, nothing deleted):\n")[1]
    assert counts == (
        "  broker files: 1\n"
        "  collections: 1\n"
        "  invocations: 6\n"
        "  metric points: 1\n"
        "  metric rollups: 2\n"
        "  power results: 2\n"
        "  tuning runs: 1\n"
    )
    assert purge().split("Deleted:\n")[1] == counts
    assert purge("--dry-run").endswith("Would delete (dry run, nothing deleted):\n  nothing\n")


def test_a_big_purge_deletes_batch_by_batch_and_a_dry_run_counts_every_batch():
    rows = 2 * retention.BATCH_SIZE + 1
    Collection.objects.bulk_create(
        Collection(region="us-east-1", started_at=days_ago(401)) for _ in range(rows)
    )

    assert retention.purge(dry_run=True) == {"collections": rows}
    with CaptureQueriesContext(connection) as queries:
        assert retention.purge() == {"collections": rows}

    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3
    assert not Collection.objects.exists()


def test_days_overrides_the_setting():
    run = make_run(sizes=(128,), num=2, created_at=days_ago(10))

    purge()
    assert TuningRun.objects.filter(pk=run.pk).exists()

    assert "tuning runs: 1\n" in purge("--days", "7")
    assert not TuningRun.objects.filter(pk=run.pk).exists()


def test_a_retention_of_0_keeps_runs_collections_and_rollups_for_ever(metrics, settings):
    settings.TUNEBOARD_RETENTION_DAYS = 0
    run = old_finished_run(days=3000)

    purge_expired_data_task()  # the beat task, run in place
    assert "Retention: 0, runs, collections and rollups are kept for ever." in purge()
    purge("--days", "0")

    assert TuningRun.objects.filter(pk=run.pk).exists()
    assert Invocation.objects.filter(run=run).count() == 6
    assert Collection.objects.count() == 2
    assert rollup_ages() == [1000, 460, 420, 1]
    assert MetricPoint.objects.count() == 1  # minutes are still rolled up after 15 days


def test_the_daily_task_purges_with_the_setting(settings, metrics):
    settings.TUNEBOARD_RETENTION_DAYS = 30
    run = old_finished_run(days=31)

    counts = purge_expired_data_task()

    assert not TuningRun.objects.filter(pk=run.pk).exists()
    assert counts["tuning runs"] == 1
    assert counts["collections"] == 1


@pytest.mark.parametrize(
    ("days", "rollups", "collections"),
    [
        (400, "hourly rollups 456 days", "Collections are kept 400 days"),
        (500, "hourly rollups 500 days", "Collections are kept 500 days"),
        (0, "hourly rollups for ever", "Collections are kept for ever"),
    ],
)
def test_the_collections_page_states_the_horizons_in_force(
    admin_client, settings, days, rollups, collections
):
    settings.TUNEBOARD_RETENTION_DAYS = days

    page = admin_client.get("/cache/collections/").content.decode()

    assert rollups in page
    assert collections in page


def test_a_negative_retention_is_refused(settings):
    make_run(sizes=(128,), num=1, created_at=days_ago(1))

    with pytest.raises(CommandError, match="0 keeps everything"):
        purge("--days", "-1")
    assert TuningRun.objects.exists()
    settings.TUNEBOARD_RETENTION_DAYS = -1
    with pytest.raises(SystemCheckError, match="dashboard.E004"):
        call_command("check", tags=["configuration"])


def test_the_purge_runs_daily_on_the_maintenance_queue():
    [entry] = [
        e
        for e in app.conf.beat_schedule.values()
        if e["task"] == "dashboard.tasks.purge_expired_data_task"
    ]
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == len(schedule.minute) == 1
    assert len(schedule.day_of_week) == 7 and len(schedule.day_of_month) == 31
    route = app.amqp.router.route({}, "dashboard.tasks.purge_expired_data_task")
    assert route["queue"].name == "maintenance"


# ---------------------------------------------------------------- the embedded broker's folders


def broker_options(folder: Path) -> dict:
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder / "control"),
    }


def file_aged(path: Path, days: float, content: str = "{}") -> Path:
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def test_pruning_removes_old_leftovers_and_keeps_waiting_messages_and_young_files(tmp_path):
    kept = [
        file_aged(tmp_path / "1_a.sweeps.msg", days=30),  # no worker for a month: still waiting
        file_aged(tmp_path / "2_b.maintenance.msg", days=30),
        file_aged(tmp_path / "control" / "sweeps.exchange", days=30),  # routes every message
        file_aged(tmp_path / "broken" / "3_c.sweeps.msg", days=0.5),
        file_aged(tmp_path / "4_d.celery@host.celery.pidbox.msg", days=0.5),
    ]
    leftovers = [
        file_aged(tmp_path / "broken" / "5_e.sweeps.msg", days=2),
        file_aged(tmp_path / ".6_f.sweeps.msg", days=2),  # its sender died while writing it
        file_aged(tmp_path / "7_g.celery@gone.example.com.celery.pidbox.msg", days=2),
        file_aged(tmp_path / "8_h.0f3a.reply.celery.pidbox.msg", days=2),
    ]
    processed = file_aged(tmp_path / "processed" / "9_i.sweeps.msg", days=2)
    options = broker_options(tmp_path)

    assert broker.prune(options, dry_run=True) == 4
    assert all(path.exists() for path in kept + leftovers)

    assert broker.prune(options) == 4
    assert all(path.exists() for path in kept)
    assert not any(path.exists() for path in leftovers)
    assert processed.exists()  # copies of consumed messages exist only with store_processed...
    options.update(store_processed=True, processed_folder=str(tmp_path / "processed"))
    assert broker.prune(options) == 1
    assert not processed.exists()  # ...and are then pruned like the rest


def test_a_message_moved_to_broken_is_kept_a_day_from_when_it_was_found_unreadable(tmp_path):
    sent_long_ago = file_aged(tmp_path / "1_a.jobs.msg", days=3, content="{half")
    options = broker_options(tmp_path)
    with (
        Connection(transport=broker.Transport, transport_options=options) as conn,
        pytest.raises(Empty),  # the only message is unreadable: moved to broken/
    ):
        conn.default_channel._get("jobs")
    assert not sent_long_ago.exists()

    assert broker.prune(options) == 0
    assert (tmp_path / "broken" / "1_a.jobs.msg").exists()
