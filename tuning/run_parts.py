"""Parts of a run's page that no longer change once the run has finished (its results table
and its progress), rendered once per process.

Each part used to cost more than a query: the results table alone, 13 formatted columns per
size, was a sixth of the page's time. As for the history rows (``tuning.history_rows``), a
finished run's part is kept (cache ``run-parts``) under a key made of everything it shows and
the viewer's language and timezone: a changed value is a new key, so nothing is ever
invalidated. A running run's parts change at every refresh: they are rendered every time.
"""

from __future__ import annotations

import hashlib

from django.core.cache import caches
from django.template.loader import get_template
from django.utils import timezone, translation

#: What the results table shows of each size (``tuning/_results_table.html``).
RESULT_FIELDS = (
    "memory_mb",
    "status",
    "noisy",
    "avg_duration_ms",
    "p50_duration_ms",
    "p95_duration_ms",
    "p99_duration_ms",
    "avg_billed_duration_ms",
    "avg_cost_usd",
    "errors",
    "invocations_done",
    "allowed_errors",
    "cold_starts",
    "max_memory_used_mb",
    "ci95_low_ms",
    "ci95_high_ms",
    "shown_error",
)


def results_table(run, results, winner, price_unknown, prices_label) -> str:
    """The table of each size's figures (``shown_error`` set on each result)."""
    context = {
        "run": run,
        "results": results,
        "winner": winner,
        "price_unknown": price_unknown,
        "prices_label": prices_label,
    }
    shown = [
        run.discard_fraction,
        run.cold_starts_only,
        run.allowed_exceptions,
        bool(run.imported_from),
        winner.memory_mb if winner else None,
        price_unknown,
        prices_label,
        [[getattr(result, name) for name in RESULT_FIELDS] for result in results],
    ]
    return _rendered("tuning/_results_table.html", context, shown, finished=not run.is_active)


def progress(run, detail: dict) -> str:
    """The progress section of ``run``'s page; ``detail`` is its ``progress_detail()``."""
    context = {"run": run, "progress": detail}
    return _rendered("tuning/_progress.html", context, [detail], finished=not detail["active"])


def _rendered(template_name: str, context: dict, shown: list, *, finished: bool) -> str:
    template = get_template(template_name)
    if not finished:
        return template.render(context)
    viewer = [translation.get_language(), timezone.get_current_timezone_name()]
    text = repr([template_name, *viewer, *shown])
    key = "run-part:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    cache = caches["run-parts"]
    html = cache.get(key)
    if html is None:
        html = template.render(context)
        cache.set(key, html)
    return html
