"""Run history: keyset pages that stay put while runs are added, and indexed search."""

import re
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aws.models import AwsAccount
from tests.tuning.runfactory import make_run
from tuning import history, history_rows, search
from tuning.forms import RunFilterForm
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db

PAGE = 25


@pytest.fixture
def member(django_user_model, client):
    user = django_user_model.objects.create_user("mia", password="correct-horse-42")
    client.force_login(user)
    return user


def cancelled_runs(count, prefix="fn"):
    return [
        make_run(function=f"{prefix}-{i:03d}", status=RunStatus.CANCELLED) for i in range(count)
    ]


def names_on(html: str) -> list[str]:
    return re.findall(r'class="tb-fn">([^<]+)</a>', html)


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found[1].replace("&amp;", "&") if found else None


def test_older_and_newer_pages_walk_the_whole_history_newest_first(client, member):
    cancelled_runs(60)
    first = client.get("/runs/").content.decode()
    assert names_on(first) == [f"fn-{i:03d}" for i in range(59, 34, -1)]
    assert link(first, "prev") is None
    second = client.get("/runs/" + link(first, "next")).content.decode()
    assert names_on(second) == [f"fn-{i:03d}" for i in range(34, 9, -1)]
    third = client.get("/runs/" + link(second, "next")).content.decode()
    assert names_on(third) == [f"fn-{i:03d}" for i in range(9, -1, -1)]
    assert link(third, "next") is None
    back = client.get("/runs/" + link(third, "prev")).content.decode()
    assert names_on(back) == names_on(second)
    assert names_on(client.get("/runs/" + link(back, "prev")).content.decode()) == names_on(first)


def test_a_link_to_older_runs_shows_the_same_runs_after_new_ones_are_added(client, member):
    cancelled_runs(30)
    older_link = link(client.get("/runs/").content.decode(), "next")
    before = names_on(client.get("/runs/" + older_link).content.decode())
    cancelled_runs(7, prefix="new")
    assert names_on(client.get("/runs/" + older_link).content.decode()) == before
    assert before == [f"fn-{i:03d}" for i in range(4, -1, -1)]


def test_filters_are_kept_across_pages(client, member):
    cancelled_runs(30, prefix="orders")
    cancelled_runs(30, prefix="billing")
    first = client.get("/runs/?q=orders").content.decode()
    assert "q=orders" in link(first, "next")
    second = client.get("/runs/" + link(first, "next")).content.decode()
    assert names_on(second) == [f"orders-{i:03d}" for i in range(4, -1, -1)]


def test_runs_created_in_the_same_instant_are_neither_skipped_nor_repeated(client, member):
    runs = cancelled_runs(40)
    instant = runs[0].created_at
    TuningRun.objects.update(created_at=instant)
    seen, url = [], "/runs/"
    while url:
        html = client.get(url).content.decode()
        seen += names_on(html)
        url = "/runs/" + link(html, "next") if link(html, "next") else None
    assert sorted(seen) == sorted(run.function_name for run in runs)
    assert len(seen) == 40


@pytest.mark.parametrize(
    "cursor", ["garbage", "", "%00", "MjAyNi0xMS0yOFQxMDowMDowMHxub3QtYS11dWlk", "A" * 5000]
)
def test_a_broken_page_link_shows_the_newest_runs_and_says_why(client, member, cursor):
    cancelled_runs(3)
    for key in ("before", "after"):
        response = client.get(f"/runs/?{key}={cursor}")
        assert response.status_code == 200
        html = response.content.decode()
        assert names_on(html) == ["fn-002", "fn-001", "fn-000"]
        if cursor:
            assert "This page link is not valid" in html


def test_a_cursor_without_a_timezone_is_refused():
    text = "2026-11-28T10:00:00|8c8f4f64-4f0e-4a53-8f52-5c8e8b1a1a1a"
    import base64

    with pytest.raises(history.BadCursor):
        history.parse_cursor(base64.urlsafe_b64encode(text.encode()).decode())


def test_the_query_count_is_the_same_on_every_page(client, member):
    cancelled_runs(80)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            html = client.get(url).content.decode()
        return len(captured), html

    first_count, first = queries("/runs/")
    second_count, second = queries("/runs/" + link(first, "next"))
    third_count, third = queries("/runs/" + link(second, "next"))
    assert first_count == second_count == third_count
    assert queries("/runs/" + link(third, "prev"))[0] == first_count


def test_rows_add_no_query_whatever_they_show(client, member):
    """A row reads only what the page's one query loaded: accounts, users, winners, companion
    runs and imports shown on it cost no query per row."""

    def queries():
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/runs/").content.decode()
        return len(captured), html

    make_run(function="fn-alone", status=RunStatus.CANCELLED)
    alone, _ = queries()
    account = AwsAccount.objects.create(name="Payments prod")
    finished = [
        make_run(function=f"fn-{i}", sizes=(128, 512), num=2, user=member, strategy=strategy)
        for i, strategy in enumerate(("cost", "speed", "balanced"))
    ]
    TuningRun.objects.filter(pk=finished[0].pk).update(account=account, qualifier="live")
    TuningRun.objects.filter(pk=finished[1].pk).update(copy_of=finished[2])
    TuningRun.objects.filter(pk=finished[2].pk).update(
        compare_architectures=True, imported_from="powertuning"
    )
    cancelled_runs(8)
    count, html = queries()
    assert len(names_on(html)) == 12
    assert "Payments prod" in html and 'data-role="copy-of"' in html
    assert '<span class="tb-tag">imported</span>' in html
    assert html.count("<strong>") >= 3  # the winners
    assert count == alone


def count_row_renders(monkeypatch) -> list:
    renders = []
    history_row = history_rows.history_row

    def counted(run):
        renders.append(run.pk)
        return history_row(run)

    monkeypatch.setattr(history_rows, "history_row", counted)
    return renders


def elapsed_on(html: str) -> list[str]:
    return re.findall(r'<td class="num">([^<]*)</td>\s*<td>[^<]*</td>\s*</tr>', html)


def test_a_row_is_rendered_again_only_when_something_it_shows_changes(client, member, monkeypatch):
    account = AwsAccount.objects.create(name="Payments prod")
    run = make_run(function="orders-api", sizes=(128, 512), num=2, user=member)
    TuningRun.objects.filter(pk=run.pk).update(account=account)
    renders = count_row_renders(monkeypatch)
    first = client.get("/runs/").content.decode()
    assert names_on(client.get("/runs/").content.decode()) == names_on(first) == ["orders-api"]
    assert len(renders) == 1
    account.name = "Payments live"
    account.save()
    renamed = client.get("/runs/").content.decode()
    assert "Payments live" in renamed and "Payments prod" not in renamed
    client.cookies["tz"] = "Asia/Tokyo"
    assert " JST</time>" in client.get("/runs/").content.decode()
    assert len(renders) == 3


def test_a_running_runs_row_shows_its_run_time_as_it_grows(client, member, monkeypatch):
    started = timezone.now()
    running = make_run(function="busy", status=RunStatus.RUNNING)
    TuningRun.objects.filter(pk=running.pk).update(started_at=started)
    for seconds, shown in ((30, "30 s"), (330, "5 min 30 s")):
        now = started + timedelta(seconds=seconds)
        monkeypatch.setattr(timezone, "now", lambda now=now: now)
        assert elapsed_on(client.get("/runs/").content.decode()) == [shown]


def test_search_finds_runs_by_name_arn_region_error_user_account_and_id(client, member):
    account = AwsAccount.objects.create(name="Payments prod")
    by_name = make_run(function="orders-api", status=RunStatus.CANCELLED)
    by_error = make_run(
        function="worker", status=RunStatus.CANCELLED, error_message="Throttled by QuotaX"
    )
    by_user = make_run(function="reports", status=RunStatus.CANCELLED, user=member)
    by_account = make_run(function="ledger", status=RunStatus.CANCELLED, account=account)
    by_region = make_run(function="edge", status=RunStatus.CANCELLED, region="eu-west-1")

    def found(text):
        # As the history searches: with the users and accounts its filter form has loaded.
        filters = RunFilterForm({"q": text})
        return {run.function_name for run in filters.filter(TuningRun.objects.all())}

    assert found("ORDERS") == {"orders-api"}
    assert found("quotax") == {"worker"}
    assert found("mia") == {"reports"}
    assert found("payments") == {"ledger"}
    assert found("eu-west-1") == {"edge"}
    assert found(by_name.function_arn) == {"orders-api"}
    assert found(str(by_error.id)) == {"worker"}
    assert found("no-such-thing") == set()
    assert by_user and by_account and by_region


def test_search_and_the_function_filter_can_use_trigram_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    cancelled_runs(3, prefix="orders")
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for queryset in (
            TuningRun.objects.search("orders", users=[], accounts=[]).order_by(),
            TuningRun.objects.filter(function_name__icontains="orders").order_by(),
        ):
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "run_search_trgm" in plans[0], plans[0]
    assert "run_function_name_trgm" in plans[1], plans[1]


def test_a_rebuilt_search_index_comes_with_the_statistics_of_its_expression():
    """Without them the planner guesses how many runs a word matches (it guessed 32 for one
    that 20,000 of 100,000 runs have, and read them all)."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes exist on PostgreSQL only")
    cancelled_runs(20, prefix="orders")
    with connection.cursor() as cursor:  # the new rows' deferred checks, before the DDL
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        search.rebuild_text_index(editor, TuningRun)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'run_search_trgm'")
        assert cursor.fetchone()[0] == 1


def test_a_database_user_who_may_not_create_pg_trgm_is_told_the_command_that_fixes_it():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    settings = connection.settings_dict
    admin = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname="postgres",
        autocommit=True,
    )
    database, role = "tb_no_trgm_check", "tb_no_trgm_user"
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"CREATE DATABASE {database}")
        admin.execute(f"REVOKE CREATE ON DATABASE {database} FROM PUBLIC")
        from django.db.backends.postgresql.base import DatabaseWrapper

        limited = DatabaseWrapper({**settings, "NAME": database, "USER": role})
        try:
            with pytest.raises(search.ExtensionMissing) as refused:
                search.ensure_extension(limited)
        finally:
            limited.close()
        message = str(refused.value)
        assert "CREATE EXTENSION pg_trgm;" in message
        assert f'"{database}"' in message and role in message
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()
