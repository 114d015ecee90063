"""What the run history shows of each run, formatted once per row in Python.

A history page lists 25 runs; each template filter, tag and lookup in its row used to cost
more than the page's query (three date filters per row alone: a third of the page's time).
The template only places these values; ``dashboard.templatetags.units`` formats them the
way every other page does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import formats, timezone

from dashboard.templatetags.units import format_elapsed, format_mb, format_sizes_mb, format_usd

#: The run fields a row reads (``TuningRun.objects.only``): the run's bulky fields (payloads,
#: events, configuration) stay in the database. A field read that is not here costs a query
#: per row.
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
    "analysis",
    "strategy",
    "created_at",
    "started_at",
    "finished_at",
    "created_by__username",
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
    """``run`` as its history row, its times in the viewer's timezone (the active one)."""
    winner = run.recommendation()
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
