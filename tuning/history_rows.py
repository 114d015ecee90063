"""What the run history shows of each run: its row, formatted once in Python and rendered
once per process.

A history page lists 25 runs; each template filter, tag and lookup in its row used to cost
more than the page's query (three date filters per row alone: a third of the page's time).
The row's values are formatted here (``dashboard.templatetags.units`` formats them the way
every other page does) and ``tuning/_history_row.html`` places them. The HTML of a row is
then kept (cache ``history-rows``) under a key made of everything the row shows: every field
in :data:`FIELDS`, the viewer's timezone and language. A changed run, account name or
username is a new key, so nothing is ever invalidated; only the row of a running run, whose
run time grows, is rendered every time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import caches
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.template.loader import get_template
from django.urls import reverse
from django.utils import formats, timezone, translation

from dashboard.templatetags.units import format_elapsed, format_mb, format_sizes_mb, format_usd
from tuning.models import TuningRun

#: The run fields a row reads (``TuningRun.objects.only``): the run's bulky fields (payloads,
#: events, configuration, the stored analysis) stay in the database. A field read that is not
#: here costs a query per row.
FIELDS = (
    "id",
    "function_name",
    "qualifier",
    "region",
    "account__name",
    "imported_from",
    "copy_of_id",
    "compare_architectures",
    "status",
    "memory_sizes",
    "strategy",
    "created_at",
    "started_at",
    "finished_at",
    "created_by__username",
)


def runs() -> QuerySet:
    """Runs with what their rows show. Of the stored analysis (~1 kB) only its picks
    (``picks``: strategy -> winner, ~200 bytes) are read: a row shows its strategy's winner."""
    return (
        TuningRun.objects.select_related("account", "created_by")
        .only(*FIELDS)
        .annotate(picks=KeyTransform("recommendation", "analysis"))
    )


@dataclass(frozen=True)
class Companion:
    """The run a temporary other-architecture copy belongs to."""

    url: str
    short_id: str


@dataclass(frozen=True)
class HistoryRow:
    id: str
    url: str
    function_name: str
    qualifier: str
    region: str
    account: str  # the account's name, "" for the workers' own credentials
    imported: bool
    companion: Companion | None
    compared: bool  # x86_64 vs arm64
    status: str
    status_label: str
    sizes: str  # "128, 512, 1024 MB"
    size_count: int
    winner: str  # "1,024 MB", "" before analysis or when every size failed
    strategy: str  # "lowest cost"
    cost: str  # per call: "$0.0000027" or "price unknown"
    created_iso: str
    created_long: str  # the locale's date and time, for the tooltip
    created: str  # "2026-11-28 14:05 CET"
    elapsed: str
    created_by: str


def history_row(run) -> HistoryRow:
    """``run`` (from :func:`runs`) as its history row, its times in the viewer's timezone (the
    active one)."""
    winner = (run.picks or {}).get(run.strategy)
    created = timezone.localtime(run.created_at)
    return HistoryRow(
        id=str(run.id),
        url=reverse("tuning:run_detail", args=[run.id]),
        function_name=run.function_name,
        qualifier=run.qualifier,
        region=run.region,
        account=run.account.name if run.account else "",
        imported=bool(run.imported_from),
        companion=Companion(
            url=reverse("tuning:run_detail", args=[run.copy_of_id]),
            short_id=str(run.copy_of_id)[:8],
        )
        if run.copy_of_id
        else None,
        compared=run.compare_architectures,
        status=run.status,
        status_label=run.get_status_display(),
        sizes=format_sizes_mb(run.memory_sizes),
        size_count=len(run.memory_sizes),
        winner=format_mb(winner.get("memory_mb")) if winner else "",
        strategy=str(run.get_strategy_display()).lower(),
        cost=_cost(winner),
        created_iso=created.isoformat(),
        created_long=formats.date_format(created, "DATETIME_FORMAT"),
        created=f"{created:%Y-%m-%d %H:%M} {created.tzname()}",
        elapsed=format_elapsed(run),
        created_by=(run.created_by.get_username() if run.created_by else "") or "—",
    )


def _cost(winner: dict | None) -> str:
    if not winner:
        return ""
    if winner.get("avg_cost_usd") is None:
        return "price unknown"
    return format_usd(winner["avg_cost_usd"])


def rendered_rows(runs) -> list[str]:
    """The HTML row of each of ``runs``, from the cache when it has them."""
    cache = caches["history-rows"]
    viewer = [translation.get_language(), timezone.get_current_timezone_name()]
    keys = [_cache_key(run, viewer) for run in runs]
    found = cache.get_many([key for key in keys if key])
    template = get_template("tuning/_history_row.html")
    rows, rendered = [], {}
    for run, key in zip(runs, keys, strict=True):
        html = found.get(key)
        if html is None:
            html = template.render({"row": history_row(run)})
            if key:
                rendered[key] = html
        rows.append(html)
    cache.set_many(rendered)
    return rows


def _cache_key(run, viewer: list) -> str | None:
    """Everything the row shows (to this viewer: language and timezone), hashed; None for a
    running run (its run time grows)."""
    if run.started_at and not run.finished_at:
        return None
    shown = viewer + [_value(run, path) for path in FIELDS] + [run.picks]
    return "run-row:" + hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()


def _value(run, path: str):
    """``run.account.name`` for "account__name"; None past an empty relation."""
    value = run
    for name in path.split("__"):
        value = getattr(value, name) if value is not None else None
    return value
