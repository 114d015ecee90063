"""What a notification says: the share-safe summary of a run or a cache flag, and a link.

Share-safe as share pages are: the function's name, region, sizes and figures; of an error
only its class (tuning.sharing.public_error). Never an account id, ARN, role, payload,
environment value or raw error text."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from dashboard.templatetags.units import format_ms, format_pct, format_usd
from notifications.models import Event
from tuning.models import RunStatus
from tuning.sharing import public_error

_RUN_EVENTS = {
    RunStatus.SUCCEEDED: Event.SWEEP_SUCCEEDED,
    RunStatus.FAILED: Event.SWEEP_FAILED,
    RunStatus.CANCELLED: Event.SWEEP_CANCELLED,
}
_VERBS = {"cost": "is cheapest", "speed": "is fastest", "balanced": "is the best balance"}
#: A comparison ends as the worse of its two runs.
_COMPARISON_OUTCOMES = (RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.SUCCEEDED)


@dataclass(frozen=True)
class Message:
    event: str
    title: str
    text: str
    url: str = ""

    def as_plain_text(self) -> str:
        link = f"\n\n{self.url}" if self.url else ""
        return f"{self.title}\n\n{self.text}{link}\n"


def absolute_url(path: str) -> str:
    """``path`` under TUNEBOARD_BASE_URL; "" when it is not set (then there is no link)."""
    base = settings.TUNEBOARD_BASE_URL
    return f"{base}{path}" if base else ""


def run_event(run) -> str | None:
    return _RUN_EVENTS.get(run.status)


def run_message(run) -> Message:
    status = run.get_status_display().lower()
    lines = [f"{run.function_name} in {run.region}, {_sizes(run)}: sweep {status}."]
    best = run.winner() if run.status == RunStatus.SUCCEEDED else None
    if best is not None:
        lines.append(
            f"{best.memory_mb} MB {_VERBS.get(run.strategy, 'is recommended')}: "
            f"{format_usd(best.avg_cost_usd, 2)} per call, {format_ms(best.avg_duration_ms)}."
        )
    elif run.status == RunStatus.FAILED:
        lines.append(f"Reason: {public_error(run.error_message) or 'error'}.")
    return Message(
        event=run_event(run) or Event.SWEEP_FAILED,
        title=f"Sweep {status}: {run.function_name}",
        text=" ".join(lines),
        url=absolute_url(reverse("tuning:run_detail", args=[run.id])),
    )


def comparison_message(original, copy) -> Message:
    """The end of an architecture comparison: ``original`` swept the function, ``copy`` a
    temporary copy of it with the other architecture. The recommendation across both for the
    run's strategy and how it compares with the function's own architecture's pick; a link to
    ``original``."""
    statuses = {original.status, copy.status}
    status = next(s for s in _COMPARISON_OUTCOMES if s in statuses)
    label = RunStatus(status).label.lower()
    comparison = original.architecture_comparison()
    compared = " and ".join(r["architecture"] for r in comparison["runs"] if r["architecture"])
    lines = [
        f"{original.function_name} in {original.region}, {_sizes(original)}: "
        f"{compared or 'both architectures'} compared, {label}."
    ]
    pick = (comparison["recommendation"] or {}).get(original.strategy)
    if pick is not None:
        verb = _VERBS.get(original.strategy, "is recommended")
        lines.append(f"{_pick(pick)} {verb} across both.")
        own = pick["original"]
        if own is not None and (own["run_id"], own["memory_mb"]) != (
            pick["run_id"],
            pick["memory_mb"],
        ):
            changes = [
                f"{what} {_signed_pct(pick[key])}"
                for what, key in (("cost", "cost_change"), ("duration", "duration_change"))
                if pick[key] is not None
            ]
            lines.append(
                f"Best on the function's own architecture: {_pick(own)}"
                + (f"; the pick across both changes {', '.join(changes)}." if changes else ".")
            )
    for run, which in ((original, "function"), (copy, "copy")):
        if run.status == RunStatus.FAILED:
            lines.append(f"The {which}'s run failed: {public_error(run.error_message) or 'error'}.")
    return Message(
        event=_RUN_EVENTS[status],
        title=f"Architecture comparison {label}: {original.function_name}",
        text=" ".join(lines),
        url=absolute_url(reverse("tuning:run_detail", args=[original.id])),
    )


def _sizes(run) -> str:
    return ", ".join(f"{mb} MB" for mb in run.memory_sizes)


def _pick(pick: dict) -> str:
    """ "arm64 at 512 MB ($0.0000021 per call, 12.3 ms)"; without the cost when unknown."""
    figures = [format_ms(pick["avg_duration_ms"])]
    if pick["avg_cost_usd"] is not None:
        figures.insert(0, f"{format_usd(pick['avg_cost_usd'], 2)} per call")
    return f"{pick['architecture']} at {pick['memory_mb']} MB ({', '.join(figures)})"


def _signed_pct(ratio: float) -> str:
    return ("+" if ratio > 0 else "") + format_pct(ratio)


def flag_message(cluster, flag) -> Message:
    """``flag`` is a cachemetrics.analysis.Flag: its reason is built from metric figures."""
    return Message(
        event=Event.CACHE_FLAG,
        title=f"DAX cluster {cluster.name}: {flag.title}",
        text=f"{cluster.name} in {cluster.region} ({flag.level}): {flag.reason}",
        url=absolute_url(reverse("cachemetrics:cluster_detail", args=[cluster.pk])),
    )


def test_message(team) -> Message:
    return Message(
        event=Event.TEST,
        title=f"Test notification for {team.name}",
        text=f"Tuneboard can reach this channel: {team.name} will be notified here.",
        url=absolute_url(reverse("notifications:settings")),
    )


def _escape(text: str) -> str:
    """Slack mrkdwn: &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(message: Message) -> dict:
    """Slack-compatible incoming-webhook JSON: ``text`` (the fallback every compatible service
    reads) and ``blocks``."""
    link = f" <{message.url}|Open in Tuneboard>" if message.url else ""
    return {
        "text": f"{message.title}: {message.text}" + (f" {message.url}" if message.url else ""),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _escape(message.text)[:2900] + link},
            },
        ],
    }
